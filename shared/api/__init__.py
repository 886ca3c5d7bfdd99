"""The REST face of the one server: a FastAPI app with the products' native endpoints under /api/v1/
and OpenAI-compatible ones under /v1/, on the same registry and models as the Gradio UI, which is
mounted on the same app (server.py). Every route needs an API key, is rate- and quota-limited in the
database and metered once (guard.py); errors have OpenAI's shape (errors.py). Products declare what
they serve in their descriptors (`Product.services`, `Product.routes`); nothing here names one.
"""
