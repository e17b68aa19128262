#!/usr/bin/env bash
# What the tests need besides Go and PostgreSQL (scripts/pg.sh installs
# that): LibreOffice, which opens ccbulk's XLSX files in the LibreOffice
# tests, openpyxl, which fixtures/spreadsheets/make.sh uses, and podman,
# which builds and runs the container image in TestImage, and Chromium,
# which the web front end's browser tests drive (internal/web). As root on
# Debian or Ubuntu they are installed when missing; otherwise, or when the
# installation fails, this says so and those tests skip.
set -uo pipefail

need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1 || need+=(python3-openpyxl)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps.sh: ${need[*]} not installed; the LibreOffice, image and browser tests will skip (install: sudo apt-get install --no-install-recommends ${need[*]})" >&2
	exit 0
fi
echo "test-deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >&2 || ! apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then
	echo "test-deps.sh: could not install ${need[*]}; the LibreOffice, image and browser tests will skip" >&2
fi
exit 0
