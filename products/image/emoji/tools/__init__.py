"""Offline tools of the emoji model, never imported by the running app (which needs only
products/image/emoji/pipeline.py): the training data (data, recolour), training (train), the checks it is
judged by (colours, shapes, evaluate), guidance and sampler choice (tune) and the model card (card).
Run the scripts with `python -m products.image.emoji.tools.<name>`."""
