"""`writeamp run --stacks --svg`: the flame graph of a known call chain, read back as XML and
rendered by headless Chromium to prove that a browser draws its frames."""
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import OUTPUT, SCRATCH_ROOT, WRITEAMP

CHAIN = OUTPUT / "tests" / "chain-nofp"
CHROMIUM = "/usr/bin/chromium"
COUNT, SIZE = 2000, 48
APP_BYTES = COUNT * SIZE
# tests/workload/chain.c: each stage calls the next, the last one calls write().
STAGES = ["ingest_batch", "encode_record", "append_record", "persist_record", "write_all_bytes"]
KERNEL_SUFFIX = "_[k]"
SVG_NS = "{http://www.w3.org/2000/svg}"
WINDOW = (1200, 800)
MIN_COVERAGE = 0.01  # of the screenshot, for each colour family
COMPLETE_SHARE = 0.99  # of the writes whose whole chain was unwound
BYTE_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
# "NAME: 96.00 kB app bytes (100.0%)"
TOOLTIP = re.compile(r"^(?P<name>.*): (?P<value>\d+(?:\.\d+)?) (?P<unit>B|kB|MB|GB|TB)\b"
                     r".* \((?P<share>\d+(?:\.\d+)?)%\)$")


def is_warm(r, g, b):
    """The user frames' family: red to yellow, blue low."""
    return r >= 200 and 60 <= g <= 225 and b <= 80


def is_teal(r, g, b):
    """The kernel frames' family: green and blue well above red."""
    return r <= 100 and g >= 160 and b >= 150


class Frame:
    def __init__(self, g):
        rect = g.find(SVG_NS + "rect")
        self.title = g.find(SVG_NS + "title").text or ""
        self.name = self.title.rsplit(": ", 1)[0] if ": " in self.title else self.title
        self.x = float(rect.get("x"))
        self.y = float(rect.get("y"))
        self.width = float(rect.get("width"))

    def contains(self, other):
        return self.x - 0.01 <= other.x and other.x + other.width <= self.x + self.width + 0.01

    def tooltip_bytes(self):
        m = TOOLTIP.match(self.title)
        assert m, f"tooltip {self.title!r} does not give bytes and a share"
        return float(m["value"]) * BYTE_UNITS[m["unit"]]

    def __repr__(self):
        return f"Frame({self.title!r}, x={self.x}, y={self.y}, w={self.width})"


def frames_of(svg_path):
    """Every drawn frame: a <g> holding a <title> tooltip and a <rect>. Parsing it at all
    proves the document well-formed."""
    root = ElementTree.parse(svg_path).getroot()
    assert root.tag == SVG_NS + "svg", f"root element is {root.tag}"
    return [Frame(g) for g in root.iter(SVG_NS + "g")
            if g.find(SVG_NS + "title") is not None and g.find(SVG_NS + "rect") is not None]


def widest(frames, name):
    named = [f for f in frames if f.name == name]
    assert named, f"no frame {name} among {[f.name for f in frames]}"
    return max(named, key=lambda f: f.width)


def level_height(frames):
    """The distance between two levels: the smallest gap between distinct y coordinates."""
    ys = sorted({f.y for f in frames})
    assert len(ys) > 1, f"one level only: {frames}"
    return min(b - a for a, b in zip(ys, ys[1:]))


def screenshot(svg_path, png_path, profile):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={profile}",
           f"--screenshot={png_path}", f"file://{svg_path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and png_path.exists(), \
        f"{cmd} exited {p.returncode} without a screenshot: {p.stderr[-2000:]}"


def coverage(png_path):
    """The shares of the screenshot in the warm (user) and the teal (kernel) colours."""
    from PIL import Image

    with Image.open(png_path) as im:
        pixels = list(im.convert("RGB").getdata())
    warm = sum(1 for p in pixels if is_warm(*p))
    teal = sum(1 for p in pixels if is_teal(*p))
    return warm / len(pixels), teal / len(pixels)


@pytest.fixture(scope="module")
def workdir():
    d = SCRATCH_ROOT / ("svg-" + uuid.uuid4().hex[:12])
    d.mkdir(parents=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def chain_svg(workdir):
    """The flame graph of the chain's application bytes; (its path, its frames)."""
    svg = workdir / "out.svg"
    cmd = [str(WRITEAMP), "run", "--stacks", "--svg", str(svg), "--weight", "app-bytes",
           "--settle", "0", "--", str(CHAIN), str(workdir / "data"), str(COUNT), str(SIZE),
           "sync"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {p.stderr}"
    assert svg.exists(), f"{cmd} wrote no {svg}: {p.stderr}"
    return svg, frames_of(svg)


def test_svg_nests_the_call_chain_one_level_per_call(chain_svg):
    _, frames = chain_svg
    step = level_height(frames)
    chain = [widest(frames, name) for name in STAGES]
    for caller, callee in zip(chain, chain[1:]):
        # the root is at the bottom: a callee is drawn one level higher, within its caller
        assert caller.y - callee.y == pytest.approx(step), f"{callee} is not right above {caller}"
        assert caller.contains(callee), f"{callee} sticks out of {caller}"
    # write() enters the kernel: its frames are stacked on write_all_bytes
    kernel = [f for f in frames if f.name.endswith(KERNEL_SUFFIX) and f.y < chain[-1].y
              and chain[-1].contains(f)]
    assert kernel, f"no kernel frames above write_all_bytes: {[f.name for f in frames]}"


def test_tooltips_give_the_chains_bytes(chain_svg):
    _, frames = chain_svg
    total = max(frames, key=lambda f: f.width)
    # app bytes are counted exactly: every byte the chain wrote, and nothing else
    assert total.tooltip_bytes() == pytest.approx(APP_BYTES, rel=0.005), total.title
    for name in STAGES:
        f = widest(frames, name)
        assert f.tooltip_bytes() >= COMPLETE_SHARE * APP_BYTES, f.title
        assert f.width >= COMPLETE_SHARE * total.width, f


def test_chromium_draws_user_and_kernel_frames(chain_svg, workdir):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install the Debian package chromium")
    pytest.importorskip("PIL", reason="Pillow is missing: install python3-pil")
    svg, _ = chain_svg
    png = workdir / "shot.png"
    screenshot(svg, png, workdir / "chromium-profile")
    warm, teal = coverage(png)
    assert warm > MIN_COVERAGE, f"user frames cover {warm:.2%} of the screenshot"
    assert teal > MIN_COVERAGE, f"kernel frames cover {teal:.2%} of the screenshot"
