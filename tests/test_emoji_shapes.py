"""The emoji model's shape check and Fréchet distance: categories from CLDR subcategories, a small
classifier that learns shapes, the check's counting against a baseline, and the distance itself."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from products.image.emoji.tools import colours, evaluate, shapes


@pytest.mark.parametrize("subcategory, name, expected", [
    ("face-smiling", "grinning face", "face"), ("cat-face", "grinning cat", "face"), ("heart", "red heart", "heart"),
    ("sky & weather", "star", "star"), ("sky & weather", "glowing star", "star"), ("animal-mammal", "dog", "animal"),
    ("plant-flower", "rose", "plant"), ("food-fruit", "red apple", "food"), ("drink", "hot beverage", "food"),
    ("transport-ground", "bus", "vehicle"), ("transport-air", "airplane", "vehicle"), ("country-flag", "flag: Japan",
                                                                                       "flag"),
    ("person-role", "police officer", "person"), ("hand-fingers-closed", "thumbs up", "hand"),
    ("clothing", "t-shirt", "clothing"), ("place-building", "house", "building"), ("geometric", "blue circle", None),
    ("sky & weather", "starry night", None),
])
def test_categories_come_from_cldr_subcategories(subcategory, name, expected):
    assert shapes.category(subcategory, name) == expected


def shape_images(kind: str, n: int, seed: int, colour: tuple | None = None) -> torch.Tensor:
    """n 32x32 images in [-1, 1] of one shape in random positions, in `colour` or random colours."""
    rng = np.random.default_rng(seed)
    out = []
    given = colour
    for _ in range(n):
        image = Image.new("RGB", (32, 32), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        x, y = rng.integers(2, 8, 2)
        colour = given or tuple(int(c) for c in rng.integers(0, 200, 3))
        if kind == "disc":
            draw.ellipse((x, y, x + 20, y + 20), fill=colour)
        else:
            draw.rectangle((x, y + 6, x + 22, y + 14), fill=colour)  # a flat bar
        out.append(torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 127.5 - 1)
    return torch.stack(out)


def test_the_classifier_learns_shapes_it_has_not_seen():
    face, flag = shapes.CATEGORIES.index("face"), shapes.CATEGORIES.index("flag")
    images = torch.cat([shape_images("disc", 48, 0), shape_images("bar", 48, 1)])
    labels = torch.tensor([face] * 48 + [flag] * 48)
    model = shapes.train_classifier(images, labels, epochs=8, batch=32, log=lambda *_: None)
    test = torch.cat([shape_images("disc", 16, 2), shape_images("bar", 16, 3)])
    predicted, features = shapes.predict(model, test)
    expected = np.array([face] * 16 + [flag] * 16)
    assert (predicted == expected).mean() >= 0.9
    assert features.shape == (32, 128)
    # 64x64 samples are area-reduced to the classifier's 32x32.
    assert shapes.predict(model, torch.nn.functional.interpolate(test, scale_factor=2))[0].shape == (32,)


def test_hue_turns_make_the_classifier_judge_shape_not_colour():
    """Trained on red discs and blue bars, a classifier without hue turns calls a blue disc a bar;
    with them (classifier v2's default) it goes by the shape."""
    red, blue = (220, 30, 30), (30, 30, 220)
    face, flag = shapes.CATEGORIES.index("face"), shapes.CATEGORIES.index("flag")
    images = torch.cat([shape_images("disc", 48, 0, red), shape_images("bar", 48, 1, blue)])
    labels = torch.tensor([face] * 48 + [flag] * 48)
    swapped = torch.cat([shape_images("disc", 16, 2, blue), shape_images("bar", 16, 3, red)])
    expected = torch.tensor([face] * 16 + [flag] * 16)
    right = {}
    for hue in (0.0, shapes.HUE_ROTATE):
        model = shapes.train_classifier(images, labels, epochs=8, batch=32, log=lambda *_: None, hue=hue)
        right[hue] = (shapes.predict(model, swapped)[0] == expected.numpy()).mean()
    assert right[0.0] <= 0.5 and right[shapes.HUE_ROTATE] >= 0.9, right
    assert shapes.hue_turned_accuracy(model, swapped, expected) >= 0.8


def test_a_saved_classifier_loads_with_the_same_verdicts(tmp_path):
    model = shapes.EmojiClassifier().eval()
    shapes.save(model, tmp_path / "c.safetensors", {"held_out_accuracy": 0.5})
    loaded = shapes.load(tmp_path / "c.safetensors")
    x = shape_images("disc", 4, 0)
    assert np.array_equal(shapes.predict(model, x)[0], shapes.predict(loaded, x)[0])


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 8))
    b = rng.standard_normal((400, 8))
    assert shapes.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    near, far = shapes.frechet_distance(a, b), shapes.frechet_distance(a, b + 2.0)
    assert near < 0.5 < far
    assert far == pytest.approx(near + 4 * 8, rel=0.1)  # |mu|^2 grows by 8 dimensions x 2^2


class RedIsHeart:
    """A stand-in classifier: mostly red images are hearts, anything else a face."""

    def eval(self):
        return self

    def features(self, x):
        return x.mean(dim=(2, 3))

    def head(self, f):
        heart, face = shapes.CATEGORIES.index("heart"), shapes.CATEGORIES.index("face")
        logits = torch.zeros(len(f), len(shapes.CATEGORIES))
        red = (f[:, 0] > 0.5) & (f[:, 1] < 0)
        logits[red, heart] = 1
        logits[~red, face] = 1
        return logits


class PaintsHearts:
    """A stand-in pipeline: red images for prompts with "heart", yellow for the rest."""
    unet = type("U", (), {"config": type("C", (), {"sample_size": 32})()})()

    def __call__(self, prompts, output_type="pt", **kwargs):
        colour = {True: (1.0, 0.0, 0.0), False: (1.0, 1.0, 0.0)}
        images = torch.stack([torch.tensor(colour["heart" in p])[:, None, None].expand(3, 32, 32) for p in prompts])
        return type("Out", (), {"images": images})()


def test_the_shape_check_counts_the_prompted_category_against_a_baseline():
    result = evaluate.shape_check(PaintsHearts(), RedIsHeart(), n=2, steps=1)
    assert set(result) == set(shapes.CATEGORIES)
    assert result["heart"]["fraction"] == 1.0 and result["heart"]["baseline"] == 0.0
    assert result["face"]["fraction"] == 1.0 and result["face"]["baseline"] == 1.0  # "an emoji" is yellow: a face
    assert result["flag"]["fraction"] == 0.0
    assert result["heart"]["prompts"] == {p: 1.0 for p in shapes.SHAPE_PROMPTS["heart"]}


def test_guidance_is_tuned_on_prompts_the_evaluation_never_uses():
    from products.image.emoji.tools import tune

    evaluated = {p for p, _ in colours.COLOUR_PROMPTS} | {p for ps in shapes.SHAPE_PROMPTS.values() for p in ps}
    validation = {p for p, _ in tune.VALIDATION_COLOURS} | {p for ps in tune.VALIDATION_SHAPES.values() for p in ps}
    assert not evaluated & validation and set(tune.VALIDATION_SHAPES) == set(shapes.CATEGORIES)
    row = tune.score(PaintsHearts(), RedIsHeart(), 3.0, n=2, steps=1)
    # Yellow everywhere but "a blue heart" (red): only the banana has its colour; the heart and the face their shape.
    assert row == {"guidance": 3.0, "colour": round(1 / 6, 3), "shape": round(2 / 12, 3)}
