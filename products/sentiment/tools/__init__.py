"""Offline sentiment tools, never imported by the running app: training the heads (train), fine-tuning
MiniLM end to end (finetune), and the simulated-feedback retrain (simulate_feedback). Run each with
`python -m products.sentiment.tools.<name>`."""
