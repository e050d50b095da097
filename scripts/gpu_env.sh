# Sourced by the scripts/gpu_*.sh runs: $OUT for logs, and Python packages the GPU machine lacks.
# Wheels in .whl/ (ml_dtypes, hypothesis) and .cupy/ (CuPy for the interop tests) are installed
# without network into /tmp/site; the in-tree package comes first on PYTHONPATH.
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
wheels=$(compgen -G ".whl/*.whl"; compgen -G ".cupy/*.whl") || true
if [ -n "$wheels" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $wheels
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1
