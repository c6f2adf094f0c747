#!/usr/bin/env python3
"""make_font_subset.py: cut IPAPGothic down to the glyphs QuantLab's UI draws -> assets/fonts/quantlab-ui.ttf.

The UI needs Latin (ImGui's default range U+0020..U+00FF) plus the Japanese text and symbols of ui/i18n.cpp
(and any other non-ASCII character in ui/*.cpp). The full IPAPGothic is ~6 MB; the subset is tens of KB,
which is what the web page downloads. Run after changing UI text (from the repository root):

    /usr/bin/python3 scripts/make_font_subset.py

Needs fonts-ipafont-gothic (/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf) and python3-fonttools
(its subsetter, `python3 -m fontTools.subset` / pyftsubset). IPA Font License: the subset keeps the font's name and license tables.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ui_characters():
    chars = set(chr(c) for c in range(0x20, 0x7F))
    chars |= set(chr(c) for c in range(0xA0, 0x100))
    for path in sorted(glob.glob(os.path.join(ROOT, "ui", "*.cpp")) + glob.glob(os.path.join(ROOT, "ui", "*.hpp"))):
        with open(path, encoding="utf-8") as f:
            chars |= {c for c in f.read() if ord(c) > 0x7F}
    chars.add("\u30fb")  # katakana middle dot: ImGui's fallback glyph candidates
    return chars


def subsetter():
    """fontTools' subsetter: in this interpreter, else Debian's python3 (python3-fonttools), else pyftsubset."""
    try:
        import fontTools.subset  # noqa: F401
        return [sys.executable, "-m", "fontTools.subset"]
    except ImportError:
        pass
    if os.path.exists("/usr/bin/python3") and subprocess.run(["/usr/bin/python3", "-c", "import fontTools.subset"]).returncode == 0:
        return ["/usr/bin/python3", "-m", "fontTools.subset"]
    return ["pyftsubset"]


def check(path):
    """0 when the font at `path` has a glyph for every character ui_characters() finds, else 1."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            return subprocess.run(["/usr/bin/python3", __file__, "--check", "--out", path]).returncode
        print("make_font_subset: python3-fonttools is missing; cannot check (skipped)")
        return 77  # CTest's SKIP_RETURN_CODE
    cmap = TTFont(path).getBestCmap()
    # Characters the source font itself lacks cannot be fixed by regenerating: the UI shows '?' for them.
    missing = sorted(c for c in ui_characters() if ord(c) not in cmap and c not in "\u00ad\u00b5")
    if missing:
        print(f"{path} lacks: " + " ".join(f"{c}(U+{ord(c):04X})" for c in missing))
        print("regenerate it: /usr/bin/python3 scripts/make_font_subset.py")
        return 1
    print(f"{path}: all {len(ui_characters())} UI characters present")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--font", default="/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf")
    ap.add_argument("--out", default=os.path.join(ROOT, "assets", "fonts", "quantlab-ui.ttf"))
    ap.add_argument("--check", action="store_true",
                    help="only check that --out holds every character the UI uses (exit 1 and list them if not)")
    args = ap.parse_args()
    if args.check:
        sys.exit(check(args.out))
    if not os.path.exists(args.font):
        sys.exit(f"make_font_subset: {args.font} is missing; install fonts-ipafont-gothic")
    chars = ui_characters()
    unicodes = ",".join(f"U+{ord(c):04X}" for c in sorted(chars))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".ttf", dir=os.path.dirname(args.out))
    os.close(fd)
    try:
        subprocess.run(subsetter() + [args.font, f"--unicodes={unicodes}", f"--output-file={tmp}",
                        "--no-hinting", "--desubroutinize", "--layout-features=", "--name-IDs=*",
                        "--drop-tables+=GSUB,GPOS,GDEF,vhea,vmtx,VORG"], check=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, args.out)  # a failed run never leaves a half-written font
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    # Report glyphs the font lacks (they would draw as '?').
    try:
        from fontTools.ttLib import TTFont
        cmap = TTFont(args.out).getBestCmap()
        missing = sorted(c for c in chars if ord(c) not in cmap and ord(c) >= 0xA0 and c not in "\u00ad")
        if missing:
            print("make_font_subset: not in the font: " + " ".join(f"{c}(U+{ord(c):04X})" for c in missing))
    except ImportError:
        pass
    print(f"wrote {args.out}: {len(chars)} characters, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
