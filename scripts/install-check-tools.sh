#!/bin/sh
# The programs tests/test_ops_deploy.py runs on the deploy/ files: nginx (nginx -t on the
# nginx snippet), systemd-analyze (systemd-analyze verify on the unit) and openssl (a
# self-signed certificate for nginx -t). Debian packages; services are not started during
# the installation (only the binaries are used).
set -eu
missing=""
command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -z "$missing" ] && exit 0
apt-get update -qq
if [ ! -e /usr/sbin/policy-rc.d ]; then
    # policy-rc.d answering 101: no service is started by this installation.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
