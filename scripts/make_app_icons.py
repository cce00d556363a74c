"""Draw the installable app's icons (issue #19) from the emblem's geometry (web/static/web/emblem.svg:
a red disc with a gold ring and a gold five-pointed star on a 40-unit grid) with Pillow, as real PNGs
and a favicon.ico. Run again after changing the emblem:

    python scripts/make_app_icons.py

Writes src/popid/web/static/web/icons/: icon-192.png, icon-512.png (purpose "any": the emblem on a
transparent square), icon-maskable-512.png (purpose "maskable": a full-bleed red square with the
star inside the 80 % safe circle), apple-touch-icon.png (180 px, opaque) and favicon.ico (16/32/48).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

RED, RED_DARK, GOLD = (200, 16, 46, 255), (140, 13, 23, 255), (242, 201, 76, 255)
OUT = Path(__file__).resolve().parent.parent / "src" / "popid" / "web" / "static" / "web" / "icons"
SUPERSAMPLE = 4

# The star of emblem.svg: "M20 7.5l3 9.2h9.7l-7.8 5.7 3 9.2-7.9-5.7-7.9 5.7 3-9.2-7.8-5.7H17z" (absolute points).
STAR = [(20, 7.5), (23, 16.7), (32.7, 16.7), (24.9, 22.4), (27.9, 31.6), (20, 25.9), (12.1, 31.6), (15.1, 22.4),
        (7.3, 16.7), (17, 16.7)]


def _star(draw: ImageDraw.ImageDraw, *, scale: float, shift: tuple[float, float] = (0, 0)) -> None:
    draw.polygon([(shift[0] + x * scale, shift[1] + y * scale) for x, y in STAR], fill=GOLD)


def emblem(size: int, *, opaque: bool = False) -> Image.Image:
    """The emblem itself: disc r=19 with a 2-unit gold ring, on a transparent (or white) square."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (255, 255, 255, 255) if opaque else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = big / 40
    draw.ellipse([unit * 0.5, unit * 0.5, unit * 39.5, unit * 39.5], fill=GOLD)  # ring: r = 19 + 1
    draw.ellipse([unit * 2, unit * 2, unit * 38, unit * 38], fill=RED)           # disc inside the ring
    _star(draw, scale=unit)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def maskable(size: int) -> Image.Image:
    """Full-bleed red with the gold-ringed disc inside the safe zone (a circle of 40 % radius)."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), RED_DARK)
    draw = ImageDraw.Draw(image)
    safe = big * 0.4
    centre = big / 2
    ring = safe * 0.92
    draw.ellipse([centre - ring, centre - ring, centre + ring, centre + ring], fill=GOLD)
    disc = ring * 0.9
    draw.ellipse([centre - disc, centre - disc, centre + disc, centre + disc], fill=RED)
    scale = (2 * ring) / 40  # the star keeps its place on the 40-unit grid of the ring's box
    _star(draw, scale=scale, shift=(centre - ring, centre - ring))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    emblem(192).save(OUT / "icon-192.png", optimize=True)
    emblem(512).save(OUT / "icon-512.png", optimize=True)
    maskable(512).save(OUT / "icon-maskable-512.png", optimize=True)
    maskable(180).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    emblem(48).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parent.parent.parent.parent.parent.parent)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
