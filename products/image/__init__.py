"""Image generation: any diffusers text-to-image pipeline, with seeds, schedulers, presets, per-step
progress, Stop, and the generation parameters embedded in every PNG."""
TAB_TITLE = "image.tab"


def build_tab() -> None:
    from products.image.tab import build_tab as build

    build()
