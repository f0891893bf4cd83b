# Sourced by the checks that run a PyTorch reference: exits 77 (skipped) when
# /usr/bin/python3 has no PyTorch, else makes a scratch folder $dir, removed on exit.
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "no PyTorch for /usr/bin/python3: skipped"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
