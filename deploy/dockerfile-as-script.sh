#!/bin/sh
# dockerfile-as-script.sh: replays a Dockerfile as a shell script, without Docker, to check its
# build steps on this machine.
#
#   deploy/dockerfile-as-script.sh [-f DOCKERFILE] [-c CONTEXT] [-o OUTDIR] [-n]
#
#   -f  the Dockerfile (default: deploy/Dockerfile next to this script)
#   -c  the build context (default: the repository root)
#   -o  where to build (default: a new temp dir); it gets
#         context/          the build context, after .dockerignore
#         build.sh          the generated script (one block per instruction, with its line)
#         stages/NAME/      each stage's file tree (the last one is the image)
#         stages/NAME.env   each stage's ENV, as `export` lines
#         image.conf        the image's USER, WORKDIR, ENTRYPOINT, CMD (shell assignments)
#   -n  only write build.sh, do not run it
#
# Progress and the steps' output go to stderr; stdout gets one line, the image's tree
# (OUTDIR/stages/LAST). Exit 0 when every step ran, 1 when one failed, 2 for a Dockerfile it
# cannot replay.
#
# How instructions become shell:
#   FROM img AS name    a new empty tree stages/name (an external base image is stood in for by
#                       this machine: the host's node, npm and sh); FROM <stage> copies that tree
#   WORKDIR /p          mkdir -p stages/name/p; later RUNs run there
#   COPY [--from=s] [--chmod=m] SRC... DEST
#                       from context/ (or stages/s/); a directory's contents, like Docker; DEST
#                       relative to WORKDIR or absolute within the tree; --chown is ignored
#   RUN cmd             `sh -c`-like, in WORKDIR, with the stage's ENV; absolute paths in cmd
#                       would reach this machine, so Dockerfiles keep RUN paths relative.
#                       A RUN right after a comment `# as-script: skip REASON` is only syntax-
#                       checked (package installs, user creation: they need the base image)
#   ENV, ARG            exported / substituted in FROM; USER, ENTRYPOINT, CMD: image.conf
#   LABEL, EXPOSE       recorded in build.sh as comments
#   anything else       an error (keep the Dockerfile within what is checked here)
#
# `npm ci` needs the registry. With DOCKERFILE_AS_SCRIPT_NPM=offline (the default) it is
# replayed from the repository: its package-lock.json must be the one in the stage, its
# node_modules (which `npm ci` made from that lockfile) are copied, `--omit=...` is applied with
# `npm prune --offline`, and `npm ls --all` must then accept the tree. With
# DOCKERFILE_AS_SCRIPT_NPM=network, `npm ci` runs as written.
#
# .dockerignore (of the context root) is applied approximately: patterns and `!` exceptions in
# order, the last match wins, a pattern matches a path or any of its parent directories, `**/`
# also matches at the root; unlike Docker, `*` may match across `/`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dockerfile=$here/Dockerfile
context_src=$(cd "$here/.." && pwd)
out=
emit_only=false
while getopts f:c:o:n opt; do
  case $opt in
    f) dockerfile=$OPTARG ;;
    c) context_src=$OPTARG ;;
    o) out=$OPTARG ;;
    n) emit_only=true ;;
    *) echo "usage: $0 [-f DOCKERFILE] [-c CONTEXT] [-o OUTDIR] [-n]" >&2; exit 2 ;;
  esac
done
[ -f "$dockerfile" ] || { echo "$0: no Dockerfile at $dockerfile" >&2; exit 2; }
dockerfile=$(cd "$(dirname "$dockerfile")" && pwd)/$(basename "$dockerfile")
context_src=$(cd "$context_src" && pwd)
if [ -z "$out" ]; then out=$(mktemp -d "${TMPDIR:-/tmp}/dockerfile-as-script.XXXXXX"); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Single-quotes a string for the generated script.
q() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# ---------------------------------------------------------------- parse: one instruction a line
# Output: LINE US INSTRUCTION US SKIP-REASON US ARGUMENTS (US = \037), continuation lines joined,
# comment lines dropped, `# as-script: skip REASON` attached to the next instruction.
US=$(printf '\037')
parsed=$out/instructions
awk -v US="$US" '
  function emit() {
    if (text == "") return
    n = index(text, " "); instr = toupper(n ? substr(text, 1, n - 1) : text)
    args = n ? substr(text, n + 1) : ""
    sub(/^[ \t]+/, "", args); sub(/[ \t]+$/, "", args)
    print start US instr US skip US args
    text = ""; skip = ""
  }
  {
    line = $0
    sub(/\r$/, "", line)
    if (line ~ /^[ \t]*#/) {
      if (match(line, /^[ \t]*#[ \t]*as-script:[ \t]*skip/)) {
        reason = substr(line, RSTART + RLENGTH); sub(/^[ \t]+/, "", reason)
        skip = (reason == "" ? "skipped" : reason)
      }
      next
    }
    if (text == "" && line ~ /^[ \t]*$/) next
    cont = (line ~ /\\[ \t]*$/)
    if (cont) sub(/\\[ \t]*$/, "", line)
    if (text == "") { start = NR; sub(/^[ \t]+/, "", line); text = line } else text = text " " line
    if (!cont) emit()
  }
  END { emit() }
' "$dockerfile" >"$parsed"

# ---------------------------------------------------------------- the generated script's library
script=$out/build.sh
cat >"$script" <<'LIB'
#!/bin/sh
# Generated by deploy/dockerfile-as-script.sh: the Dockerfile's steps as a shell script.
set -eu
say() { printf '%s\n' "$*" >&2; }
fail() { say "dockerfile-as-script: $*"; exit 1; }

# .dockerignore matching (see dockerfile-as-script.sh for the approximation).
path_match() { # PATTERN PATH
  _s=$2
  while :; do
    # shellcheck disable=SC2254
    case $_s in $1) return 0 ;; esac
    case $1 in '**/'*)
      # shellcheck disable=SC2254
      case $_s in ${1#'**/'}) return 0 ;; esac ;;
    esac
    case $_s in */*) _s=${_s%/*} ;; *) return 1 ;; esac
  done
}
ignored() { # PATH (relative to the context root): status 0 when .dockerignore excludes it
  [ -f "$CONTEXT_SRC/.dockerignore" ] || return 1
  _r=1
  while IFS= read -r _p || [ -n "$_p" ]; do
    _p=$(printf '%s' "$_p" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    case $_p in '' | '#'*) continue ;; esac
    _neg=false
    case $_p in '!'*) _neg=true; _p=${_p#!} ;; esac
    _p=${_p#/}; _p=${_p%/}; _p=${_p#./}
    if path_match "$_p" "$1"; then
      if $_neg; then _r=1; else _r=0; fi
    fi
  done <"$CONTEXT_SRC/.dockerignore"
  return $_r
}
has_exception_under() { # DIR: whether a `!` pattern names something inside DIR
  [ -f "$CONTEXT_SRC/.dockerignore" ] && grep -Eq "^[[:space:]]*!/?$1/" "$CONTEXT_SRC/.dockerignore"
}
make_context() {
  set +f
  rm -rf "$OUT/context"; mkdir -p "$OUT/context"
  for _e in "$CONTEXT_SRC"/* "$CONTEXT_SRC"/.[!.]* "$CONTEXT_SRC"/..?*; do
    [ -e "$_e" ] || [ -L "$_e" ] || continue
    _top=${_e#"$CONTEXT_SRC"/}
    if ignored "$_top" && ! has_exception_under "$_top"; then continue; fi
    (cd "$CONTEXT_SRC" && find "$_top" \( -type f -o -type l \) -print) | while IFS= read -r _f; do
      ignored "$_f" && continue
      mkdir -p "$OUT/context/$(dirname "$_f")"
      cp -P -p "$CONTEXT_SRC/$_f" "$OUT/context/$_f"
    done
  done
  set -f
}

# Stage state: STAGE, ROOT, WORKDIR; ENV in $OUT/stages/$STAGE.env
from() { # NAME BASE
  STAGE=$1; ROOT=$OUT/stages/$1; WORKDIR=/
  rm -rf "$ROOT"
  if [ -d "$OUT/stages/$2" ] && [ -f "$OUT/stages/$2.env" ]; then
    cp -a "$OUT/stages/$2" "$ROOT"
    cp "$OUT/stages/$2.env" "$ROOT.env"
    WORKDIR=$(cat "$OUT/stages/$2.workdir")
  else
    mkdir -p "$ROOT"; : >"$ROOT.env"
    say "   base image $2: stood in for by this machine (node $(node --version 2>/dev/null || echo missing))"
  fi
  printf '%s\n' "$WORKDIR" >"$ROOT.workdir"
}
stage_path() { # PATH -> the path inside the stage tree (relative PATHs are from WORKDIR)
  case $1 in /*) printf '%s%s' "$ROOT" "$1" ;; *) printf '%s%s/%s' "$ROOT" "${WORKDIR%/}" "$1" ;; esac
}
workdir() {
  case $1 in /*) WORKDIR=$1 ;; *) WORKDIR=${WORKDIR%/}/$1 ;; esac
  mkdir -p "$ROOT$WORKDIR"
  printf '%s\n' "$WORKDIR" >"$ROOT.workdir"
}
env_set() { # NAME VALUE (VALUE already expanded against the stage's ENV)
  printf 'export %s=%s\n' "$1" "$(printf "'%s'" "$(printf '%s' "$2" | sed "s/'/'\\\\''/g")")" >>"$ROOT.env"
}
env_expand() { # TEXT: $VAR / ${VAR} expanded with the stage's ENV (and this shell's)
  ( . "$ROOT.env"; eval "printf '%s' \"$1\"" )
}
copy() { # FROM-STAGE|'' CHMOD|'' SRC... DEST
  _from=$1; _mode=$2; shift 2
  _n=$(($# - 1)); _i=0; _dest=
  for _a in "$@"; do _dest=$_a; done
  _multi=false; [ "$_n" -gt 1 ] && _multi=true
  case $_dest in */) _multi=true ;; esac
  _target=$(stage_path "$_dest")
  if [ -n "$_from" ]; then _base=$OUT/stages/$_from; else _base=$OUT/context; fi
  for _a in "$@"; do
    _i=$((_i + 1)); [ "$_i" -gt "$_n" ] && break
    _a=${_a#/}
    _found=false
    set +f
    for _src in "$_base"/$_a; do
      [ -e "$_src" ] || [ -L "$_src" ] || continue
      _found=true
      if [ -d "$_src" ] && [ ! -L "$_src" ]; then
        mkdir -p "$_target"
        cp -a "$_src/." "$_target/"
        [ -z "$_mode" ] || chmod -R "$_mode" "$_target"
      else
        if $_multi; then mkdir -p "$_target"; _to=$_target/$(basename "$_src")
        else mkdir -p "$(dirname "$_target")"; _to=$_target; fi
        cp -P -p "$_src" "$_to"
        [ -z "$_mode" ] || chmod "$_mode" "$_to"
      fi
    done
    set -f
    $_found || fail "COPY failed: $_a not found in ${_from:+stage }${_from:-the build context} (missing, or excluded by .dockerignore)"
  done
}
# `npm ci` replayed from the repository (DOCKERFILE_AS_SCRIPT_NPM=offline).
sim_npm_ci() {
  [ -f package-lock.json ] || { say "npm ci: no package-lock.json in $(pwd)"; return 1; }
  cmp -s package-lock.json "$CONTEXT_SRC/package-lock.json" || {
    say "npm ci (replayed): this package-lock.json is not the repository's, whose node_modules would be copied"
    return 1
  }
  [ -d "$CONTEXT_SRC/node_modules" ] || { say "npm ci (replayed): run npm ci in $CONTEXT_SRC first"; return 1; }
  _omit=
  for _o in "$@"; do
    case $_o in
      --omit=*) _omit="$_omit $_o" ;;
      --ignore-scripts | --no-audit | --no-fund | --quiet | --silent) ;;
      *) say "npm ci (replayed): option $_o not replayed" ;;
    esac
  done
  rm -rf node_modules
  mkdir node_modules
  # the contents (`/.`): a node_modules that is a symlink is copied, never shared and pruned
  cp -a "$CONTEXT_SRC/node_modules/." node_modules/
  # shellcheck disable=SC2086
  if [ -n "$_omit" ]; then command npm prune $_omit --offline --no-audit --no-fund >/dev/null || return; fi
  # shellcheck disable=SC2086
  command npm ls --all $_omit --offline >/dev/null || { say "npm ci (replayed): npm ls rejects the tree"; return 1; }
  say "   npm ci$_omit: replayed from $CONTEXT_SRC/node_modules ($(du -sh node_modules | cut -f1))"
}
run() { # FILE (the RUN command, sourced in a subshell like `sh -c`)
  (
    cd "$ROOT$WORKDIR"
    set +euf
    . "$ROOT.env"
    if [ "${DOCKERFILE_AS_SCRIPT_NPM:-offline}" = offline ]; then
      npm() { if [ "${1:-}" = ci ]; then shift; sim_npm_ci "$@"; else command npm "$@"; fi; }
    fi
    . "$1" >&2
  )
}
LIB

# ---------------------------------------------------------------- instructions -> script blocks
{
  printf 'OUT=%s\nCONTEXT_SRC=%s\n' "$(q "$out")" "$(q "$context_src")"
  printf 'set -f\nrm -rf "$OUT/stages"; mkdir -p "$OUT/stages" "$OUT/run"\n: >"$OUT/image.conf"\n'
  printf 'say %s\nmake_context\n' "$(q "== build context: $context_src (after .dockerignore)")"
} >>"$script"

stage_n=0
last_stage=
args_seen=
n=0
while IFS=$US read -r line instr skip args; do
  n=$((n + 1))
  label="$(basename "$dockerfile"):$line $instr $args"
  printf '\n# ---- %s\nsay %s\n' "$label" "$(q "== $label")" >>"$script"
  case $instr in
    ARG)
      name=${args%%=*}
      if [ "$name" != "$args" ]; then value=${args#*=}; else value=; fi
      # An ARG before the first FROM is global: substitute it in FROM lines (docker build --build-arg is not replayed).
      eval "arg_$name=\$value"
      args_seen="$args_seen $name"
      [ "$stage_n" -eq 0 ] || printf 'env_set %s "$(env_expand %s)"\n' "$(q "$name")" "$(q "$value")" >>"$script"
      ;;
    FROM)
      set -f
      # shellcheck disable=SC2086
      set -- $args
      set +f
      base=$1
      for a in $args_seen; do
        eval "v=\${arg_$a}"
        base=$(printf '%s' "$base" | sed "s|\${$a}|$v|g; s|\$$a\$|$v|")
      done
      stage_n=$((stage_n + 1))
      name=$stage_n
      if [ "$#" -ge 3 ]; then
        case $2 in [Aa][Ss]) name=$3 ;; esac
      fi
      last_stage=$name
      printf 'from %s %s\n' "$(q "$name")" "$(q "$base")" >>"$script"
      ;;
    WORKDIR) printf 'workdir "$(env_expand %s)"\n' "$(q "$args")" >>"$script" ;;
    ENV)
      # ENV NAME=VALUE [NAME=VALUE...] (values without blanks) or ENV NAME VALUE
      case $args in
        *=*)
          set -f
          # shellcheck disable=SC2086
          set -- $args
          set +f
          for kv in "$@"; do
            printf 'env_set %s "$(env_expand %s)"\n' "$(q "${kv%%=*}")" "$(q "${kv#*=}")" >>"$script"
          done
          ;;
        *) printf 'env_set %s "$(env_expand %s)"\n' "$(q "${args%% *}")" "$(q "${args#* }")" >>"$script" ;;
      esac
      ;;
    COPY | ADD)
      [ "$instr" = COPY ] || { echo "$0: $label: ADD is not replayed; use COPY" >&2; exit 2; }
      case $args in '['*) echo "$0: $label: the JSON form of COPY is not replayed" >&2; exit 2 ;; esac
      from=; mode=; words=
      set -f
      # shellcheck disable=SC2086
      set -- $args
      set +f
      for w in "$@"; do
        case $w in
          --from=*) from=${w#--from=} ;;
          --chmod=*) mode=${w#--chmod=} ;;
          --chown=* | --link | --link=*) ;;
          --*) echo "$0: $label: COPY option $w is not replayed" >&2; exit 2 ;;
          *) words="$words $(q "$w")" ;;
        esac
      done
      printf 'copy %s %s%s\n' "$(q "$from")" "$(q "$mode")" "$words" >>"$script"
      ;;
    RUN)
      case $args in '['*) echo "$0: $label: the JSON (exec) form of RUN is not replayed" >&2; exit 2 ;; esac
      runfile=$out/run/$n.sh
      mkdir -p "$out/run"
      printf '%s\n' "$args" >"$runfile"
      if [ -n "$skip" ]; then
        printf 'sh -n %s || fail %s\nsay %s\n' "$(q "$runfile")" "$(q "$label: syntax error")" \
          "$(q "   skipped, syntax checked: $skip")" >>"$script"
      else
        printf 'run %s || fail %s\n' "$(q "$runfile")" "$(q "RUN at line $line failed")" >>"$script"
      fi
      ;;
    USER | ENTRYPOINT | CMD)
      printf 'printf "%%s=%%s\\n" %s %s >>"$OUT/image.conf"\n' "$instr" "$(q "$(q "$args")")" >>"$script"
      ;;
    LABEL | EXPOSE | STOPSIGNAL | HEALTHCHECK | SHELL | VOLUME)
      printf '# %s: recorded only\n' "$instr" >>"$script"
      ;;
    *) echo "$0: $label: instruction $instr is not replayed" >&2; exit 2 ;;
  esac
done <"$parsed"

[ -n "$last_stage" ] || { echo "$0: no FROM in $dockerfile" >&2; exit 2; }
{
  printf '\nprintf "WORKDIR=%%s\\n" "$(cat "$ROOT.workdir")" >>"$OUT/image.conf"\n'
  printf 'printf "STAGE=%%s\\n" %s >>"$OUT/image.conf"\n' "$(q "$last_stage")"
  printf 'say %s\n' "$(q "== done: the image is $out/stages/$last_stage")"
  printf 'printf "%%s\\n" %s\n' "$(q "$out/stages/$last_stage")"
} >>"$script"
chmod +x "$script"

if $emit_only; then
  printf '%s\n' "$script"
  exit 0
fi
exec sh "$script"
