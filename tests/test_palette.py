"""The book's colours stay apart for readers with colour-vision deficiency.

The colours of ``lessons_lib.plots`` (treated, control, truth, estimate) are put through
the simulation of Machado, Oliveira and Fernandes (2009, IEEE TVCG 15(6), their matrices
at severity 1.0, applied in linear sRGB) for protanopia, deuteranopia and tritanopia, and
every pair must stay at a CIEDE2000 colour difference of at least ``MIN_DELTA_E``: a
difference readers see at a glance in a legend or between two lines, not only side by
side. Red against green, the classic confusion, must fail the same check (the test can
tell).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lessons_lib import plots

MACHADO_2009 = {
    "protanopia": [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
VISION = {"typical": np.eye(3).tolist(), **MACHADO_2009}
MIN_DELTA_E = 12.0
BOOK_COLOURS = {name: getattr(plots, name) for name in ("TREATED", "CONTROL", "TRUTH", "ESTIMATE")}


def _linear(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear sRGB colour."""
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375],
                    [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ np.clip(linear_rgb, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 (Sharma, Wu and Dalal 2005, the formula as they state it)."""
    L1, a1, b1 = lab1
    L2, a2, b2 = lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    L_bar, C_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * C_bar
    s_h = 1 + 0.015 * C_bar * t
    r_t = (-2 * np.sqrt(C_bar**7 / (C_bar**7 + 25.0**7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return float(np.sqrt((dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2
                         + r_t * (dCp / s_c) * (dHp / s_h)))


def seen_by(vision: str, hex_colour: str) -> np.ndarray:
    return _lab(np.array(VISION[vision]) @ _linear(hex_colour))


def test_ciede2000_matches_sharma_et_al_reference_pairs():
    # Pairs 1, 7 and 17 of Sharma, Wu and Dalal's (2005) table of test data.
    assert delta_e_2000(np.array([50, 2.6772, -79.7751]),
                        np.array([50, 0, -82.7485])) == pytest.approx(2.0425, abs=1e-4)
    assert delta_e_2000(np.array([50, 0, 0]), np.array([50, -1, 2])) == pytest.approx(
        2.3669, abs=1e-4)
    assert delta_e_2000(np.array([50, 2.5, 0]), np.array([73, 25, -18])) == pytest.approx(
        27.1492, abs=1e-4)


def test_the_check_can_fail_red_and_green_merge_for_deuteranopes():
    assert delta_e_2000(seen_by("typical", "#d62728"), seen_by("typical", "#2ca02c")) > 40
    assert delta_e_2000(seen_by("deuteranopia", "#d62728"),
                        seen_by("deuteranopia", "#2ca02c")) < MIN_DELTA_E


@pytest.mark.parametrize("vision", list(VISION))
@pytest.mark.parametrize("pair", list(itertools.combinations(BOOK_COLOURS, 2)),
                         ids=lambda p: "-".join(p))
def test_book_colours_stay_distinguishable(vision, pair):
    first, second = pair
    difference = delta_e_2000(seen_by(vision, BOOK_COLOURS[first]),
                              seen_by(vision, BOOK_COLOURS[second]))
    assert difference >= MIN_DELTA_E, (
        f"{first} {BOOK_COLOURS[first]} and {second} {BOOK_COLOURS[second]} are only "
        f"{difference:.1f} apart (CIEDE2000) under {vision}; need {MIN_DELTA_E}")

