# Sourced by the GPU scripts (benchmarks/gpu_*.sh), from the repo root: installs the pure-Python
# packages that the GPU machine lacks from wheels carried in .whl/ (see README, "Tests and
# benchmarks"), and sets the environment the runs share.
if ! python3 -c "import ml_collections, tensorboardX, mlxtend" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
