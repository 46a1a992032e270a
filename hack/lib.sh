# Shared by the hack/ entry points: puts Node.js 24 (installed from the npm registry into a per-user
# cache when missing) first on PATH and installs the project's npm dependencies when the lockfile
# changed. Source it; it does not exit the caller on success.
# shellcheck shell=bash

VNF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VNF_NODE_VERSION=24.21.0
VNF_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vnf-operator

log() { printf '==> %s\n' "$*" >&2; }

ensure_node() {
  local os arch dir
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) log "unsupported OS $(uname -s)"; return 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) log "unsupported CPU $(uname -m)"; return 1 ;; esac
  dir="$VNF_CACHE/node-v$VNF_NODE_VERSION-$os-$arch"
  if [[ ! -x "$dir/bin/node" ]]; then
    command -v npm >/dev/null || { log "npm is needed once, to fetch Node.js $VNF_NODE_VERSION from the npm registry"; return 1; }
    log "installing Node.js $VNF_NODE_VERSION from the npm registry into $dir"
    local tmp; tmp=$(mktemp -d)
    # The arch-specific package ships the official binary; no install script runs.
    (cd "$tmp" && npm install --no-save --no-package-lock --ignore-scripts --loglevel=error --prefix "$tmp" \
      "node-$os-$arch@$VNF_NODE_VERSION" >/dev/null)
    mkdir -p "$dir/bin"
    mv "$tmp/node_modules/node-$os-$arch/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$VNF_ROOT/node_modules/.bin:$PATH"
  [[ "$(node --version)" == "v$VNF_NODE_VERSION" ]] || { log "node on PATH is $(node --version), expected v$VNF_NODE_VERSION"; return 1; }
}

ensure_deps() {
  local stamp="$VNF_ROOT/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$VNF_ROOT/package-lock.json" -nt "$stamp" ]]; then
    log "installing npm dependencies (locked versions)"
    # Not `npm ci`: it refuses a lock whose optional per-platform packages (biome's darwin/win32/musl
    # builds) the registry mirror does not serve. `npm install --no-save` installs the locked versions
    # and leaves package.json and the lock untouched.
    (cd "$VNF_ROOT" && npm install --no-save --loglevel=error --no-fund --no-audit >&2)
  fi
}

ensure_binaries() {
  VNF_BIN_DIR=$("$VNF_ROOT/hack/build-binaries" | tail -n 1)
  export VNF_BIN_DIR
}

ensure_toolchain() { ensure_node && ensure_deps; }
