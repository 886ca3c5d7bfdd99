"""Image generation: any diffusers text-to-image pipeline, with seeds, schedulers, presets, per-step
progress, Stop, and the generation parameters embedded in every PNG."""
from shared import feedback
from shared.descriptor import FeedbackKind, Measure, Product, Service

from products.image import service, strings  # noqa: F401  (strings: the tab title and messages)
from products.image.settings import ImageSettings


def build_tab() -> None:
    from products.image.tab import build_tab as build

    build()


PRODUCT = Product(
    name="image",
    title="image.tab",
    build_tab=build_tab,
    actions=("image_generate", "image_stop", "image_preset", "image_reuse_seed"),
    rated=("image_generate",),
    feedback=(FeedbackKind("favourite", 1.0, feedback.check_item), FeedbackKind("down", 0.0, feedback.check_item)),
    measures=(Measure("images", "images made"), Measure("pixels", "pixels made")),
    settings=(ImageSettings,),
    services=(Service("images", service.MODEL_ID, service.generate,
                      "The configured text-to-image model; offline, the small emoji model trained in this repo "
                      "(256x256, 25 steps)", default=True),),
    routes=service.routes,
)
