#!/usr/bin/env bash
# Each Debian release's own nodejs (Debian 12: 18, Debian 13: 20, sid: 24), for the test
# that runs the packed CLI under each: the package and everything it depends on, libc
# included, from Debian's archive into .test-cache/node-<release>/, run through that
# release's own dynamic loader (.test-cache/node-<release>/node), so a newer release's
# node runs on this Debian 12 machine without touching its libraries. A private apt
# sources list and state, `apt-get install --download-only`, `dpkg-deb -x`: the host's apt
# setup is never read or changed. Safe to run again: it keeps a working copy.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${PROMHA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -f $keyring ]] && signed="[signed-by=$keyring] "
for release in bookworm trixie sid; do
  dest=.test-cache/node-$release
  if [[ -x $dest/node ]] && "$dest/node" -e 'process.exit(0)' 2>/dev/null; then continue; fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  apt=$work/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  {
    echo "deb ${signed}${mirror} $release main"
    # Debian 12's and 13's nodejs updates come through their security archive.
    [[ $release != sid ]] && echo "deb ${signed}${mirror%/debian}/debian-security $release-security main"
  } >"$apt/sources.list"
  : >"$apt/status"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null
    -o Dir::Etc::PreferencesParts=/dev/null -o "Dir::State::Lists=$apt/lists" -o "Dir::State::Status=$apt/status"
    -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1 -o APT::Install-Recommends=false)
  [[ $(id -u) == 0 ]] && opts+=(-o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  # An empty package state: apt takes nodejs's whole dependency closure, libc6 included.
  apt-get "${opts[@]}" install --download-only -y -qq nodejs >/dev/null
  rm -rf "$dest.new" && mkdir -p "$dest.new/root"
  for deb in "$apt"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dest.new/root"; done
  loader=$(cd "$dest.new/root" && find . -name 'ld-linux-x86-64.so.2' -type f | head -n 1)
  [[ -n $loader ]] || { echo "fetch-node: no dynamic loader in $release's libc6" >&2; exit 1; }
  # Debian's node loads some of its own modules from /usr/share/nodejs by absolute path:
  # those come from the release's files through an overlay on /usr/share, in a mount
  # namespace of the process's own (root only), which no other process sees.
  cat >"$dest.new/node" <<SCRIPT
#!/bin/sh
# $release's nodejs through $release's own loader and libraries (scripts/fetch-node.sh).
root="\$(dirname "\$(readlink -f "\$0")")/root"
exec unshare --mount --propagation private sh -c 'mount -t overlay overlay -o "lowerdir=\$1/usr/share:/usr/share" /usr/share && shift && exec "\$@"' sh "\$root" \\
  "\$root/${loader#./}" --library-path "\$root/lib/x86_64-linux-gnu:\$root/usr/lib/x86_64-linux-gnu" "\$root/usr/bin/node" "\$@"
SCRIPT
  chmod +x "$dest.new/node"
  "$dest.new/node" -e 'process.exit(0)' || { echo "fetch-node: $release's node does not run" >&2; exit 1; }
  rm -rf "$dest" && mv "$dest.new" "$dest"
  rm -rf "$work"
done
