#!/usr/bin/env bash
# Một Cửa Xã: offline installer for Debian/Ubuntu commune PCs, run from the USB bundle.
#
#   bash install.sh                 # as a normal user: ~/.local/share/motcua-app, ~/.local/bin
#   sudo bash install.sh            # for every user: /opt/motcua, /usr/local/bin
#   bash install.sh --uninstall     # remove the app (never the clerks' data)
#   bash install.sh --help          # all options
#
# Order matters: the bundle is checked against SHA256SUMS before anything is written, then
# Python is found, the few system packages it lacks are installed from the bundle's Debian 12
# .deb files (as root), tkinter is checked, then the app is installed into a NEW virtualenv
# that becomes current only once it works (a failed or interrupted run leaves the previous
# install running). Re-running is an upgrade. Profiles (the clerks' encrypted data, in each
# user's ~/.local/share/motcua) are never read or written.
# Nothing is downloaded: pip runs with --no-index on the bundle's wheels, apt with --no-download.
set -euo pipefail

BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARKER=".motcua-install"        # marks a folder this installer owns (it refuses any other)
WRAPPER_TAG="# motcua-installer wrapper"
started=$(date +%s)

say() { printf '%s\n' "$*"; }
# die VIETNAMESE [ENGLISH]: one clear message for the installer person, one for provincial IT.
die() {
  printf '\nLỖI: %s\n' "$1" >&2
  if [ -n "${2:-}" ]; then printf '(%s)\n' "$2" >&2; fi
  exit 1
}

usage() {
  cat <<'EOF'
Cài đặt Một Cửa Xã từ USB (không cần Internet).
Usage: bash install.sh [options]
  --prefix DIR       where the app goes (default: /opt/motcua as root,
                     ~/.local/share/motcua-app otherwise)
  --bin-dir DIR      where the motcua and motcua-app commands go
                     (default: /usr/local/bin as root, ~/.local/bin otherwise)
  --apps-dir DIR     where the menu launcher (.desktop) goes
                     (default: /usr/share/applications as root,
                     ~/.local/share/applications otherwise)
  --python PY        the Python 3.10+ to use (default: the newest the bundle supports)
  --no-desktop       do not create the menu launcher nor the desktop icon
  --no-gui-check     do not require tkinter
  --verify-only      only check the bundle against SHA256SUMS, install nothing
  --uninstall        remove the app, its commands and launcher (the data stays)
  -h, --help         this help
EOF
}

prefix="" bin_dir="" apps_dir="" python="" desktop=1 gui_check=1 verify_only=0 uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --bin-dir) bin_dir="${2:?--bin-dir needs a folder}"; shift 2 ;;
    --apps-dir) apps_dir="${2:?--apps-dir needs a folder}"; shift 2 ;;
    --python) python="${2:?--python needs a program}"; shift 2 ;;
    --no-desktop) desktop=0; shift ;;
    --no-gui-check) gui_check=0; shift ;;
    --verify-only) verify_only=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "Tuỳ chọn không hợp lệ: $1" "unknown option: $1" ;;
  esac
done

data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
if [ "$(id -u)" = 0 ]; then
  prefix="${prefix:-/opt/motcua}" bin_dir="${bin_dir:-/usr/local/bin}" apps_dir="${apps_dir:-/usr/share/applications}"
else
  # Not ~/.local/share/motcua: that is the default PROFILE folder, and profiles are never touched.
  prefix="${prefix:-$data_home/motcua-app}" bin_dir="${bin_dir:-$HOME/.local/bin}" apps_dir="${apps_dir:-$data_home/applications}"
fi

if [ "$uninstall" = 1 ]; then  # only what this installer made; profiles stay where they are
  [ -f "$prefix/$MARKER" ] || die "Không thấy bản cài đặt trong $prefix." "nothing installed in $prefix"
  for name in motcua motcua-app; do
    if grep -qF "$WRAPPER_TAG" "$bin_dir/$name" 2>/dev/null; then rm -f "$bin_dir/$name"; fi
  done
  rm -f "$apps_dir/motcua.desktop"
  rm -rf "$prefix"
  say "== Đã gỡ bỏ Một Cửa Xã (uninstalled). Dữ liệu hồ sơ vẫn còn nguyên (~/.local/share/motcua)."
  exit 0
fi

# --- 1. the bundle is intact (before anything else) ---------------------------------------------
say "== Kiểm tra bộ cài trên USB (checking the bundle)..."
[ -f "$BUNDLE/SHA256SUMS" ] || die "Không thấy tệp SHA256SUMS: bộ cài không đầy đủ. Hãy chép lại cả thư mục từ máy gốc." \
  "SHA256SUMS missing: incomplete bundle"
command -v sha256sum >/dev/null || die "Thiếu lệnh sha256sum (gói coreutils)." "sha256sum not found"
if ! check_out=$(cd "$BUNDLE" && LC_ALL=C sha256sum --quiet --strict -c SHA256SUMS 2>&1); then
  printf '%s\n' "$check_out" | grep -v '^sha256sum: WARNING' | head -20 >&2
  die "Bộ cài trên USB bị hỏng hoặc đã bị sửa đổi (các tệp ở trên sai mã kiểm tra). Chưa cài gì cả. Hãy chép lại bộ cài từ máy gốc hoặc dùng USB khác." \
    "corrupted bundle: checksum mismatch; nothing was installed"
fi
# A wheel or .deb that is not in the manifest would be picked up by pip or apt: refuse it too.
listed=$(cut -c67- "$BUNDLE/SHA256SUMS")
for f in "$BUNDLE"/wheels/* "$BUNDLE"/debs/*; do
  [ -e "$f" ] || continue
  rel="$(basename "$(dirname "$f")")/$(basename "$f")"
  if ! grep -qxF "$rel" <<<"$listed"; then
    die "Tệp lạ trong bộ cài: $rel (không có trong SHA256SUMS). Chưa cài gì cả. Hãy chép lại bộ cài." \
      "unexpected file not in the manifest: $rel; nothing was installed"
  fi
done
say "   Bộ cài nguyên vẹn (bundle OK)."
[ "$verify_only" = 1 ] && exit 0

# --- 2. Python >= 3.10 for which the bundle has wheels ------------------------------------------
# bundle.json lists the targets (linux-cp310...); pick the first candidate that matches one.
targets=$(grep -o '"linux-cp3[0-9]*"' "$BUNDLE/bundle.json" | tr -d '"' | sed 's/linux-cp3/3./' | sort -u | tr '\n' ' ')
[ -n "$targets" ] || die "Bộ cài này không có bản cho Linux." "bundle has no linux target"
if [ -n "$python" ]; then candidates="$python"; else candidates="python3.13 python3.12 python3.11 python3.10 python3"; fi
PY="" found_versions=""
for c in $candidates; do
  command -v "$c" >/dev/null 2>&1 || continue
  v=$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  found_versions="$found_versions $c=$v"
  case " $targets " in *" $v "*) PY=$(command -v "$c"); PYVER=$v; break ;; esac
done
if [ -z "$PY" ]; then
  die "Không tìm thấy Python phù hợp (cần Python ${targets% } trên máy 64-bit; đã thấy:${found_versions:- không có}). Trên Debian/Ubuntu: sudo apt install python3" \
    "no suitable Python: bundle supports $targets; found:${found_versions:- none}"
fi
[ "$("$PY" -c 'import platform; print(platform.machine())')" = x86_64 ] \
  || die "Máy này không phải 64-bit (x86_64); bộ cài chỉ có bản x86_64." "not an x86_64 machine"
say "== Python: $PY ($PYVER)"

# --- 3. the system packages this PC lacks, from the bundle's .deb files (Debian 12) -------------
need_debs=()
if [ "$gui_check" = 1 ] && ! "$PY" -c 'import tkinter' >/dev/null 2>&1; then need_debs+=(python3-tk); fi
# A serif with Vietnamese for printing: Liberation Serif 2 (Times' metrics) or DejaVu Serif.
if [ ! -e /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] \
    && [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ]; then
  need_debs+=(fonts-liberation2)
fi
probe=$(mktemp -d)
"$PY" -m venv --without-pip "$probe/venv" >/dev/null 2>&1 || need_debs+=(python3-venv)
rm -rf "$probe"
if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    die "Máy còn thiếu gói hệ thống: ${need_debs[*]}. Chạy lại bằng quyền quản trị để cài từ USB: sudo bash install.sh" \
      "missing system packages: ${need_debs[*]}; run as root to install them from the bundle"
  fi
  deb_files=()
  for pkg in "${need_debs[@]}"; do
    [ -f "$BUNDLE/debs/$pkg.list" ] || die "Bộ cài không có gói $pkg. Cài bằng: sudo apt install $pkg" "bundle has no .deb for $pkg"
    while read -r deb; do  # only what is not installed yet (a newer installed version stays)
      [ -n "$deb" ] || continue
      if ! dpkg-query -W -f='${Status}' "${deb%%_*}" 2>/dev/null | grep -q 'install ok installed'; then
        deb_files+=("$BUNDLE/debs/$deb")
      fi
    done <"$BUNDLE/debs/$pkg.list"
  done
  say "== Cài gói hệ thống từ USB (system packages): ${need_debs[*]}"
  # apt sees only what is installed and the bundle's files: no source list, empty package lists.
  no_sources=$(mktemp -d)
  mkdir -p "$no_sources/partial"
  if [ ${#deb_files[@]} -gt 0 ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/dev/null \
      -o Dir::State::Lists="$no_sources" "${deb_files[@]}"; then
    die "Không cài được gói hệ thống từ USB (các gói .deb dành cho Debian 12). Trên Ubuntu, cài bằng: sudo apt install ${need_debs[*]}" \
      "apt-get could not install the bundle's .deb files: ${need_debs[*]}"
  fi
  rm -rf "$no_sources"
fi
if [ "$gui_check" = 1 ] && ! "$PY" -c 'import tkinter; tkinter.Tcl()' >/dev/null 2>&1; then
  die "Python chưa có tkinter (giao diện). Cài gói python3-tk rồi chạy lại: sudo bash install.sh" \
    "python lacks tkinter: install python3-tk"
fi

# --- 4. where things go -------------------------------------------------------------------------
if [ -e "$prefix" ] && [ ! -f "$prefix/$MARKER" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ]; then
  die "Thư mục $prefix đã có dữ liệu không do bộ cài tạo ra (có thể là hồ sơ). Không ghi đè; chọn --prefix khác." \
    "refusing to install into $prefix: not empty and not made by this installer"
fi
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$BUNDLE/bundle.json" | head -1)
app_wheel=$(sed -n 's/^ *"app_wheel": *"\([^"]*\)".*/\1/p' "$BUNDLE/bundle.json" | head -1)
app_extras=$(sed -n 's/^ *"app_extras": *"\([^"]*\)".*/\1/p' "$BUNDLE/bundle.json" | head -1)
[ -f "$BUNDLE/wheels/$app_wheel" ] || die "Bộ cài thiếu gói ứng dụng ($app_wheel)." "app wheel missing"
pip_wheel=$(find "$BUNDLE/wheels" -maxdepth 1 -name 'pip-*.whl' | sort -V | tail -1)
[ -n "$pip_wheel" ] || die "Bộ cài thiếu gói pip." "pip wheel missing"
printf 'motcua installer\nversion %s\n' "$version" >"$prefix/$MARKER"

# One folder per bundle and Python: a different bundle is a fresh venv, the same one is reused.
bundle_id=$(sha256sum "$BUNDLE/SHA256SUMS" | cut -c1-12)
venv="$prefix/app-$version-$bundle_id-py$PYVER"
smoke() { "$1/bin/motcua" --help >/dev/null 2>&1 && "$1/bin/python" -c 'import desktop.app, desktop.selfcheck' 2>/dev/null; }

if [ -f "$venv/.complete" ] && smoke "$venv"; then
  say "== Bản $version này đã được cài; chỉ cập nhật lối tắt (already installed; refreshing)."
else
  say "== Cài Một Cửa Xã $version vào $venv (không cần mạng)..."
  rm -rf "$venv"
  # No network, ever, and no wheel from anywhere but the bundle: drop every PIP_* setting of
  # this machine (find-links, extra indexes, constraints) and read no config file.
  while read -r var; do unset "$var"; done < <(compgen -e | grep '^PIP_' || true)
  export PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  pip_opts=(--no-index --find-links "$BUNDLE/wheels" --no-cache-dir --only-binary=:all: --quiet)
  # --without-pip + pip from its own wheel: no need for Debian's python3-venv/ensurepip.
  if ! { "$PY" -m venv --without-pip "$venv" \
      && "$venv/bin/python" "$pip_wheel/pip" install "${pip_opts[@]}" pip \
      && "$venv/bin/python" -m pip install "${pip_opts[@]}" "$BUNDLE/wheels/$app_wheel${app_extras:+[$app_extras]}" \
      && smoke "$venv"; }; then
    rm -rf "$venv"
    die "Cài đặt thất bại (xem thông báo ở trên). Bản đang dùng (nếu có) vẫn giữ nguyên." \
      "install failed; the previous install, if any, is unchanged"
  fi
  touch "$venv/.complete"
fi

# Switch atomically: rename a new symlink over the old one.
previous=$(readlink "$prefix/current" 2>/dev/null || true)
ln -sfn "$(basename "$venv")" "$prefix/current.new"
mv -Tf "$prefix/current.new" "$prefix/current"
# Keep the previous version for a manual rollback; remove older ones.
for d in "$prefix"/app-*; do
  [ -d "$d" ] || continue
  name=$(basename "$d")
  if [ "$name" != "$(basename "$venv")" ] && [ "$name" != "$previous" ]; then rm -rf "$d"; fi
done
cp "$BUNDLE/motcua.svg" "$prefix/motcua.svg"

# --- 5. commands and launcher -------------------------------------------------------------------
mkdir -p "$bin_dir"
write_wrapper() {  # write_wrapper NAME COMMAND...: never overwrite a program that is not ours
  local target="$bin_dir/$1"; shift
  if [ -e "$target" ] && ! grep -qF "$WRAPPER_TAG" "$target" 2>/dev/null; then
    say "   Bỏ qua $target: đã có một chương trình khác cùng tên (skipped: not ours)."
    return 0
  fi
  printf '#!/bin/sh\n%s\nexec %s "$@"\n' "$WRAPPER_TAG" "$*" >"$target.new"
  chmod 755 "$target.new"
  mv -f "$target.new" "$target"
}
write_wrapper motcua "\"$prefix/current/bin/motcua\""
write_wrapper motcua-app "\"$prefix/current/bin/python\" -m desktop.app"

if [ "$desktop" = 1 ]; then
  mkdir -p "$apps_dir"
  launcher="$apps_dir/motcua.desktop"
  cat >"$launcher" <<EOF
[Desktop Entry]
Type=Application
Version=1.0
Name=Một Cửa Xã
GenericName=Đăng ký hộ tịch
Comment=Tiếp nhận và đăng ký hồ sơ hộ tịch tại xã (làm việc không cần mạng)
Exec="$bin_dir/motcua-app"
Icon=$prefix/motcua.svg
Terminal=false
Categories=Office;
StartupNotify=true
EOF
  chmod 644 "$launcher"
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$apps_dir" 2>/dev/null || true; fi
  # An icon on the clerk's desktop too (per-user installs; GNOME wants it marked trusted).
  if [ "$(id -u)" != 0 ] && command -v xdg-user-dir >/dev/null; then
    desk=$(xdg-user-dir DESKTOP 2>/dev/null || true)
    if [ -n "$desk" ] && [ -d "$desk" ] && [ "$desk" != "$HOME" ]; then
      install -m 755 "$launcher" "$desk/motcua.desktop"
      gio set "$desk/motcua.desktop" metadata::trusted true 2>/dev/null || true
    fi
  fi
fi

# --- 6. done --------------------------------------------------------------------------------------
elapsed=$(( $(date +%s) - started ))
say ""
say "== XONG (done in ${elapsed}s): Một Cửa Xã $version đã được cài."
say "   Ứng dụng:   $prefix/current"
say "   Lệnh:       $bin_dir/motcua, $bin_dir/motcua-app"
case ":$PATH:" in *":$bin_dir:"*) ;; *) say "   (Thêm $bin_dir vào PATH, hoặc gọi lệnh bằng đường dẫn đầy đủ.)" ;; esac
say ""
say "Bước tiếp theo: mở \"Một Cửa Xã\" trong menu ứng dụng; lần đầu sẽ hiện trình hướng dẫn"
say "(chọn xã, địa chỉ máy chủ tỉnh, mã đăng ký, tài khoản cán bộ đầu tiên)."
say "Hoặc bằng dòng lệnh: motcua --profile THƯ_MỤC enrol --server URL --code MÃ"
