# The benchmarks' source trees, from the package registries: sourced by bench/repo_runs.sh,
# bench/unseen_repos.sh and bench/fim_adapter.sh, which set WORK (downloads and unpacking go under it).

# wheel_package DEST REQUIREMENT PACKAGE [FIND_ARGS...]: the import package PACKAGE inside the wheel of
# REQUIREMENT (`name==version`, no dependencies), moved to DEST; FIND_ARGS, when given, run on it first
# (`find PACKAGE FIND_ARGS...`, to delete what nobody types).
wheel_package() {
  local dest=$1 requirement=$2 package=$3 unpacked
  unpacked="$WORK/unpacked-$(basename "$dest")"
  .venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: -d "$WORK/wheels" "$requirement"
  rm -rf "$unpacked" && mkdir -p "$unpacked"
  .venv/bin/python -m zipfile -e "$WORK/wheels/$(echo "${requirement%%==*}" | tr - _)-${requirement##*==}-"*.whl "$unpacked"
  if [ $# -gt 3 ]; then find "$unpacked/$package" "${@:4}"; fi
  mv "$unpacked/$package" "$dest" && rm -rf "$unpacked"
}

# npm_src DEST SPEC [FIND_ARGS...]: the shipped src/ of the npm package SPEC (`name@version`), moved to DEST;
# FIND_ARGS, when given, run on it first (`find src FIND_ARGS...`, to leave the tests out).
npm_src() {
  local dest=$1 spec=$2 unpacked
  unpacked="$WORK/unpacked-$(basename "$dest")"
  rm -rf "$unpacked" && mkdir -p "$unpacked"
  (cd "$unpacked" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  if [ $# -gt 2 ]; then find "$unpacked/package/src" "${@:3}"; fi
  mv "$unpacked/package/src" "$dest" && rm -rf "$unpacked"
}
