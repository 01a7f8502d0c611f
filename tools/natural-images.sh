#!/usr/bin/env bash
# Makes a folder of natural photographs as PNG files for `--transfer folder:DIR` (the "unrelated natural
# images" transfer source of the arbitrary-transfer-set study). The photos are scikit-image's sample images
# (astronaut, cat, coffee, camera, coins, grass, gravel, brick, moon, motorcycle, ...), taken as the PNG files
# they are from Debian's python3-skimage package, without installing it; folder transfer sets read PNG directly.
# Usage: tools/natural-images.sh [OUT_DIR]   (default runs/natural-images; needs apt-get)
set -euo pipefail
out="${1:-runs/natural-images}"
photos="astronaut brick camera chelsea coffee coins grass gravel moon motorcycle_left motorcycle_right rocket retina text page horse cell"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq python3-skimage >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download -qq python3-skimage >/dev/null; })
dpkg -x "$work"/python3-skimage_*.deb "$work/x"
mkdir -p "$out"
n=0
for name in $photos; do
  src="$work/x/usr/lib/python3/dist-packages/skimage/data/$name.png"
  [ -f "$src" ] || continue
  cp "$src" "$out/$name.png" && n=$((n + 1))
done
echo "natural-images: $n images in $out (scikit-image sample photos from Debian's python3-skimage, PNG)"
