#!/usr/bin/env bash
# Debian 12's sshd for the SSH tests of `promha apply`, extracted into .test-cache/ without
# installing openssh-server (which would start a daemon on this machine's port 22), and
# Debian 12's kubectl (kubernetes-client) for the manifest tests, whatever kubectl the
# machine has: a private apt sources list and state directory, `apt-get download`,
# `dpkg-deb -x`. The host's apt setup is never read or changed. Safe to run again: it
# keeps a working copy.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.test-cache/openssh-server
kube=.test-cache/kubernetes-client
if [[ -x $dest/usr/sbin/sshd ]] && "$dest/usr/sbin/sshd" -V 2>&1 | grep -q OpenSSH && [[ -x $kube/usr/bin/kubectl ]] && "$kube/usr/bin/kubectl" version --client >/dev/null 2>&1; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
apt=$work/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -f $keyring ]] && signed="[signed-by=$keyring] "
echo "deb ${signed}${PROMHA_DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm main" >"$apt/sources.list"
: >"$apt/status"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null
  -o Dir::Etc::PreferencesParts=/dev/null -o "Dir::State::Lists=$apt/lists" -o "Dir::State::Status=$apt/status"
  -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1)
[[ $(id -u) == 0 ]] && opts+=(-o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$apt/debs" && apt-get "${opts[@]}" download -qq openssh-server kubernetes-client)
rm -rf "$dest.new" && mkdir -p "$dest.new"
dpkg-deb -x "$apt"/debs/openssh-server_*.deb "$dest.new"
"$dest.new/usr/sbin/sshd" -V 2>&1 | grep -q OpenSSH || { echo "fetch-test-tools: the extracted sshd does not run:" >&2; ldd "$dest.new/usr/sbin/sshd" | grep 'not found' >&2; exit 1; }
rm -rf "$dest" && mv "$dest.new" "$dest"
rm -rf "$kube.new" && mkdir -p "$kube.new"
dpkg-deb -x "$apt"/debs/kubernetes-client_*.deb "$kube.new"
"$kube.new/usr/bin/kubectl" version --client >/dev/null || { echo "fetch-test-tools: the extracted kubectl does not run" >&2; exit 1; }
rm -rf "$kube" && mv "$kube.new" "$kube"
