"""Colour augmentation (products/image/emoji/tools/recolour.py) and the colour checks it is judged by."""
from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch
from PIL import Image

from products.image.emoji.tools import colours, data, evaluate, recolour
from tests.emoji_support import disc, fake_encode


def as_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)


def test_hsv_conversion_matches_colorsys_both_ways():
    rgb = torch.rand(3, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    hsv = recolour.rgb_to_hsv(rgb)
    expected = [colorsys.rgb_to_hsv(*p) for p in rgb.permute(0, 2, 3, 1).reshape(-1, 3).tolist()]
    assert np.allclose(hsv.permute(0, 2, 3, 1).reshape(-1, 3).numpy(), expected, atol=1e-5)
    assert torch.allclose(recolour.hsv_to_rgb(hsv), rgb, atol=1e-5)


def test_the_dominant_hue_of_an_emoji_and_none_for_grey_or_mixed_ones():
    red, blue, grey = disc((220, 30, 40)), disc((30, 80, 220)), disc((128, 128, 128))
    thirds = np.asarray(red).copy()  # red, green and blue stripes: no hue holds half the coloured pixels
    thirds[:, 13:19] = np.asarray(disc((30, 200, 40)))[:, 13:19]
    thirds[:, 19:] = np.asarray(blue)[:, 19:]
    hues = recolour.dominant_hues(torch.stack([as_tensor(red), as_tensor(blue), as_tensor(grey),
                                               as_tensor(Image.fromarray(thirds))]))
    assert hues[0] == pytest.approx(356.8, abs=0.1) and hues[1] == pytest.approx(224.2, abs=0.1)
    assert torch.isnan(hues[2]) and torch.isnan(hues[3])


@pytest.mark.parametrize("colour", list(recolour.COLOUR_HUES))
def test_turning_the_hue_gives_the_asked_colour_and_keeps_white(colour):
    heart = as_tensor(disc((220, 30, 40)))[None]
    source = recolour.dominant_hues(heart)
    turned = recolour.rotate_hue(heart, torch.tensor([recolour.COLOUR_HUES[colour]]) - source)
    assert colours.dominant_hue(evaluate.as_uint8(turned)[0]) == colour
    assert torch.allclose(turned[0, :, 0, 0], torch.ones(3), atol=1e-5)  # the white background stays white


def test_colour_captions_replace_the_colour_words_of_a_name():
    assert recolour.plain_name("red apple") == "apple" and recolour.plain_name("light blue heart") == "heart"
    assert recolour.plain_name("star") == "star" and recolour.plain_name("red") == "red"
    assert recolour.colour_captions("red heart", "blue") == ("blue heart", "a blue heart")
    assert recolour.colour_captions("car", "orange") == ("orange car", "an orange car")


def test_the_recolourer_draws_turned_images_with_their_colour_captions():
    images = torch.stack([as_tensor(disc((220, 30, 40))), as_tensor(disc((128, 128, 128)))])
    asked = []
    recolourer = recolour.Recolourer(images, ["red heart", "grey thing"], lambda c: asked.extend(c) or fake_encode(c))
    assert list(recolourer.eligible) == [0]  # the grey disc has no hue to turn
    assert sorted(asked) == sorted(c for k in recolour.COLOUR_HUES for c in recolour.colour_captions("heart", k))
    turned, vectors = recolourer.batch(images, 24, np.random.default_rng(0))
    assert turned.shape == (24, 3, 32, 32) and vectors.shape == (24, 384)
    by_vector = {tuple(v): c for c, v in zip(asked, fake_encode(asked))}
    for image, vector in zip(evaluate.as_uint8(turned), vectors.numpy()):
        caption = by_vector[tuple(vector)]
        assert colours.dominant_hue(image) in caption.split()  # "a blue heart" is blue


def test_the_art_colour_check_scores_the_art_named_with_each_colour():
    entries = [data.Emoji("a", "a.png", "red heart", ("red heart",), "c"),
               data.Emoji("b", "b.png", "blue circle", ("blue circle",), "c", style="twemoji"),
               data.Emoji("c", "c.png", "blue book", ("blue book",), "c"),
               data.Emoji("d", "d.png", "star", ("star",), "c")]
    images = torch.stack([as_tensor(disc(c)) for c in ((220, 30, 40), (30, 80, 220), (30, 200, 40), (250, 200, 0))])
    result = colours.art_colour_check(entries, evaluate.as_uint8(images))
    assert set(result) == {"red", "blue"} and result["red"] == {"fraction": 1.0, "images": 1, "by_style": {"noto": 1.0}}
    assert result["blue"]["fraction"] == 0.5 and result["blue"]["by_style"] == {"noto": 0.0, "twemoji": 1.0}


class PaintsTheWord:
    """A stand-in pipeline: each prompt's image is a disc in the colour its prompt names (grey if none)."""
    unet = type("U", (), {"config": type("C", (), {"sample_size": 32})()})()
    rgb = {"red": (220, 30, 40), "orange": (240, 140, 20), "yellow": (250, 230, 30), "green": (30, 200, 40),
           "blue": (30, 80, 220), "purple": (150, 40, 200)}

    def __call__(self, prompts, output_type="pt", **kwargs):
        painted = [next((c for w, c in self.rgb.items() if w in p.split()), (128, 128, 128)) for p in prompts]
        return type("Out", (), {"images": torch.stack([(as_tensor(disc(c)) + 1) / 2 for c in painted])})()


def test_the_held_out_colour_check_asks_each_colour_on_held_out_names():
    held_out = [data.Emoji(str(i), "x.png", name, (name,), "c") for i, name in
                enumerate(["cat", "dog", "red apple", "bus", "cat"])]
    result, names = evaluate.held_out_colour_check(PaintsTheWord(), held_out, names=3, steps=1)
    assert sorted(names) == ["bus", "cat", "dog"]  # distinct names without a colour word
    assert result == {c: 1.0 for c in colours.HUES}
