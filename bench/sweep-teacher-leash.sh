#!/usr/bin/env bash
# The sweep behind BENCHMARKS.md "IKD on a leash": every data set, every label and 5% of them, 5 seeds,
# the student alone, KD, today's IKD, IKD with each brake of --teacher-leash (and the CE anchor β), and
# one combination of them, under one student budget (on the three image and text data sets, whose runs take
# hours here, only the student alone, KD, today's IKD and the combination). Each data set's table goes to
# bench/results/accuracy-DATASET-leash.json (with the command that made it) and a section of
# BENCHMARKS.md. Settings are chosen on the validation half of the test split, reported on the other.
# The run's own teacher is today's IKD (--beta 0 --teacher-leash none): each method names its brakes.
#   bench/sweep-teacher-leash.sh [ikd command] [results dir] [benchmarks file]
set -euo pipefail
cd "$(dirname "$0")/.."
ikd=${1:-./ikd}
results=${2:-bench/results}
md=${3:-BENCHMARKS.md}
combo='ikd@kl=1+clip=0.05+warmup=50+decay=cosine+beta=0.5'
methods="alone,kd,ikd,ikd@kl=1,ikd@warmup=50+decay=cosine,ikd@clip=0.05,ikd@every=4,ikd@beta=0.5,$combo"
few="alone,kd,ikd,$combo"
common=(--beta 0 --teacher-leash none --seeds 5 --label-fractions 1.0,0.05 --tag leash --results "$results" --benchmarks-md "$md")
$ikd bench accuracy --dataset digits --steps 200 --student-sizes 'mlp:32:16,16' --methods "$methods" "${common[@]}"
$ikd bench accuracy --dataset csv:data/breast-cancer/breast-cancer.csv --label-column diagnosis --steps 200 \
  --student-sizes 'mlp:32:16,16' --methods "$methods" "${common[@]}"
$ikd bench accuracy --dataset images:data/fashion-png --steps 200 --student-sizes 'cnn:16:4,4' --methods "$few" "${common[@]}"
$ikd bench accuracy --dataset fashion-mnist --steps 200 --student-sizes 'cnn:16:4,4' --methods "$few" "${common[@]}"
$ikd bench accuracy --dataset imdb --steps 400 --student-sizes 'text:32:8' --methods "$few" "${common[@]}"
