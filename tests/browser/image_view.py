"""Where an image's pixels are on the page: shared by the image widget's browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class View:
    """Image pixels <-> page pixels: page = origin + image * scale."""

    scale: float
    ox: float
    oy: float

    def screen(self, x: float, y: float) -> tuple[float, float]:
        return self.ox + x * self.scale, self.oy + y * self.scale

    def image(self, sx: float, sy: float) -> tuple[float, float]:
        return (sx - self.ox) / self.scale, (sy - self.oy) / self.scale


def fitted_view(widget: Any, width: int, height: int) -> View:
    """The view of an <accord-image-regions> (a Playwright locator) showing a fitted image."""
    stage = widget.locator(".image-stage").bounding_box()
    scale = min(stage["width"] / width, stage["height"] / height)
    return View(
        scale,
        stage["x"] + (stage["width"] - width * scale) / 2,
        stage["y"] + (stage["height"] - height * scale) / 2,
    )


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], button: str = "left") -> None:
    page.mouse.move(*a)
    page.mouse.down(button=button)
    page.mouse.move(*b, steps=8)
    page.mouse.up(button=button)


def click(page: Any, point: tuple[float, float]) -> None:
    page.mouse.click(*point)
