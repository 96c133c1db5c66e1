#!/usr/bin/env bash
# Installs Microsoft's Azure Relay clients (hyco-ws, hyco-https) for the compatibility tests.
# Why not `npm install hyco-ws`: both packages declare npm dependencies on Node built-ins (http, https,
# crypto, events, util @latest) that the registry copy here does not serve. So: unpack the tarballs and
# install only their real dependencies, nested so that ws@1.1 (hyco-ws) and ws@6 (hyco-https) coexist.
# Idempotent: does nothing when everything is already in place.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules="$here/node_modules"
if [[ -f "$modules/hyco-ws/node_modules/ws/package.json" && -f "$modules/hyco-https/node_modules/ws/package.json" && -f "$modules/moment/package.json" ]]; then
  exit 0
fi
work="$here/.npm-work"
rm -rf "$work"
mkdir -p "$work" "$modules"
cd "$work"

npm pack --silent hyco-ws@1.0.5 hyco-https@1.4.5 >/dev/null

install_deps() { # <target dir> <package spec>...
  local target="$1"; shift
  local tmp; tmp="$(mktemp -d "$work/deps.XXXX")"
  echo '{"name":"deps","version":"1.0.0","private":true}' >"$tmp/package.json"
  (cd "$tmp" && npm install --silent --no-audit --no-fund --ignore-scripts "$@" >/dev/null)
  mkdir -p "$target"
  cp -R "$tmp/node_modules/." "$target/"
}

for name in hyco-ws hyco-https; do
  rm -rf "$modules/$name"
  mkdir -p "$modules/$name"
  tar xzf "$work/$name"-*.tgz -C "$modules/$name" --strip-components=1
done

install_deps "$modules/hyco-ws/node_modules" 'ws@1.1.x'
install_deps "$modules/hyco-https/node_modules" 'ws@6'
install_deps "$modules" 'moment@2'
rm -rf "$work"
