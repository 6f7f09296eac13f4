<#
.SYNOPSIS
    Một Cửa Xã: offline installer for Windows commune PCs, run from the USB bundle.

.DESCRIPTION
    Same order as install.sh: the bundle is checked against SHA256SUMS before anything is
    written; then a 64-bit Python 3.11 with tkinter is found (or installed per user from the
    bundle's python\python-3.11.x-amd64.exe); then the app is installed with pip --no-index
    into a NEW virtual environment, and only once it works do the commands and shortcuts point
    at it (a failed run leaves the previous install running). Re-running is an upgrade.
    Profiles (%APPDATA%\motcua, the clerks' encrypted data) are never read or written.

    This file must stay UTF-8 WITH a byte-order mark: Windows PowerShell 5.1 reads a .ps1
    without one as ANSI and would garble the Vietnamese messages.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File E:\motcua\install.ps1
#>
[CmdletBinding()]
param(
    # Where the app goes. Not %APPDATA%\motcua: that is the default profile folder.
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'MotCuaApp'),
    # A python.exe (64-bit, 3.11) to use instead of searching for one.
    [string]$Python = '',
    # Do not create the Start menu and desktop shortcuts.
    [switch]$NoShortcuts,
    # Only check the bundle against SHA256SUMS.
    [switch]$VerifyOnly
)

$ErrorActionPreference = 'Stop'
try { [Console]::OutputEncoding = [Text.Encoding]::UTF8 } catch { }
$Bundle = Split-Path -Parent $MyInvocation.MyCommand.Path
$Marker = '.motcua-install'
$Started = Get-Date

function Fail([string]$Vietnamese, [string]$English) {
    Write-Host ''
    Write-Host "LỖI: $Vietnamese" -ForegroundColor Red
    if ($English) { Write-Host "($English)" -ForegroundColor Red }
    exit 1
}

# --- 1. the bundle is intact (before anything else) ---------------------------------------------
Write-Host '== Kiểm tra bộ cài trên USB (checking the bundle)...'
$manifest = Join-Path $Bundle 'SHA256SUMS'
if (-not (Test-Path -LiteralPath $manifest)) {
    Fail 'Không thấy tệp SHA256SUMS: bộ cài không đầy đủ. Hãy chép lại cả thư mục từ máy gốc.' 'SHA256SUMS missing: incomplete bundle'
}
$listed = @{}
foreach ($line in Get-Content -LiteralPath $manifest -Encoding UTF8) {
    if ($line.Length -lt 67) { continue }
    $digest = $line.Substring(0, 64).ToLowerInvariant()
    $rel = $line.Substring(66)
    $listed[$rel] = $true
    $path = Join-Path $Bundle ($rel -replace '/', '\')
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        Fail "Bộ cài trên USB bị hỏng: thiếu tệp $rel. Chưa cài gì cả. Hãy chép lại bộ cài." "corrupted bundle: missing $rel; nothing was installed"
    }
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $path).Hash.ToLowerInvariant()
    if ($actual -ne $digest) {
        Fail "Bộ cài trên USB bị hỏng hoặc đã bị sửa đổi: $rel sai mã kiểm tra. Chưa cài gì cả. Hãy chép lại bộ cài hoặc dùng USB khác." "corrupted bundle: checksum mismatch in $rel; nothing was installed"
    }
}
foreach ($f in Get-ChildItem -LiteralPath (Join-Path $Bundle 'wheels') -File) {
    if (-not $listed.ContainsKey("wheels/$($f.Name)")) {
        Fail "Tệp lạ trong bộ cài: wheels/$($f.Name) (không có trong SHA256SUMS). Chưa cài gì cả." "unexpected file not in the manifest: wheels/$($f.Name); nothing was installed"
    }
}
Write-Host '   Bộ cài nguyên vẹn (bundle OK).'
if ($VerifyOnly) { exit 0 }

$info = Get-Content -LiteralPath (Join-Path $Bundle 'bundle.json') -Raw -Encoding UTF8 | ConvertFrom-Json
if (-not ($info.targets.PSObject.Properties.Name -contains 'win-cp311')) {
    Fail 'Bộ cài này không có bản cho Windows.' 'bundle has no win-cp311 target'
}
$version = $info.version
$wheels = Join-Path $Bundle 'wheels'
$appWheel = Join-Path $wheels $info.app_wheel
$appRequirement = if ($info.app_extras) { "$appWheel[$($info.app_extras)]" } else { $appWheel }
$pipWheel = Get-ChildItem -LiteralPath $wheels -Filter 'pip-*.whl' | Sort-Object Name | Select-Object -Last 1
if (-not $pipWheel) { Fail 'Bộ cài thiếu gói pip.' 'pip wheel missing' }

# --- 2. a 64-bit Python 3.11 with tkinter ---------------------------------------------------------
# Windows PowerShell 5.1 turns a program's stderr into errors when it is redirected, and 'Stop'
# would make them fatal: the probes below lower the preference in their own scope.
function Test-Python([string]$exe) {
    $ErrorActionPreference = 'Continue'
    if (-not $exe -or -not (Test-Path -LiteralPath $exe)) { return $false }
    # No double quotes inside: Windows PowerShell 5.1 drops them when passing arguments to a program.
    $probe = 'import sys, struct, tkinter; tkinter.Tcl(); assert sys.version_info[:2] == (3, 11) and struct.calcsize(''P'') == 8'
    & $exe -c $probe 2>$null | Out-Null
    return ($LASTEXITCODE -eq 0)
}

$privatePython = Join-Path (Split-Path -Parent $Prefix) 'MotCuaPython311\python.exe'
$candidates = @()
if ($Python) { $candidates += $Python } else {
    $candidates += $privatePython
    $candidates += (Join-Path $env:LOCALAPPDATA 'Programs\Python\Python311\python.exe')
    $candidates += (Join-Path $env:ProgramFiles 'Python311\python.exe')
    $launcher = Get-Command py.exe -ErrorAction SilentlyContinue
    if ($launcher) {
        $fromLauncher = & {
            $ErrorActionPreference = 'Continue'
            & $launcher.Source -3.11 -c 'import sys; print(sys.executable)' 2>$null
        }
        if ($LASTEXITCODE -eq 0 -and $fromLauncher) { $candidates += ([string]$fromLauncher).Trim() }
    }
}
$py = $candidates | Where-Object { Test-Python $_ } | Select-Object -First 1

if (-not $py -and -not $Python -and $info.windows_python_installer) {
    $setup = Join-Path $Bundle ($info.windows_python_installer -replace '/', '\')
    Write-Host "== Máy chưa có Python 3.11: cài Python riêng cho ứng dụng từ USB ($setup)..."
    $target = Split-Path -Parent $privatePython
    $setupArgs = @('/quiet', 'InstallAllUsers=0', "TargetDir=`"$target`"", 'Include_tcltk=1',
        'Include_pip=0', 'Include_launcher=0', 'Include_test=0', 'Include_doc=0',
        'PrependPath=0', 'Shortcuts=0', 'AssociateFiles=0')
    $proc = Start-Process -FilePath $setup -ArgumentList $setupArgs -Wait -PassThru
    if ($proc.ExitCode -ne 0 -or -not (Test-Python $privatePython)) {
        Fail "Cài Python từ USB thất bại (mã $($proc.ExitCode))." "python installer failed with exit code $($proc.ExitCode)"
    }
    $py = $privatePython
}
if (-not $py) {
    Fail 'Không tìm thấy Python 3.11 (64-bit, có tcl/tk). Cài Python 3.11 từ USB (thư mục python\) rồi chạy lại.' 'no 64-bit Python 3.11 with tkinter found and no installer in the bundle'
}
Write-Host "== Python: $py"

# --- 3. a new virtual environment, switched to only when it works ------------------------------
if ((Test-Path -LiteralPath $Prefix) -and -not (Test-Path -LiteralPath (Join-Path $Prefix $Marker)) -and
    (Get-ChildItem -LiteralPath $Prefix -Force | Select-Object -First 1)) {
    Fail "Thư mục $Prefix đã có dữ liệu không do bộ cài tạo ra (có thể là hồ sơ). Không ghi đè; chọn -Prefix khác." "refusing to install into ${Prefix}: not empty and not made by this installer"
}
New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
Set-Content -LiteralPath (Join-Path $Prefix $Marker) -Value "motcua installer`nversion $version" -Encoding UTF8

$bundleId = (Get-FileHash -Algorithm SHA256 -LiteralPath $manifest).Hash.Substring(0, 12).ToLowerInvariant()
$venvName = "app-$version-$bundleId-py3.11"
$venv = Join-Path $Prefix $venvName
$venvPython = Join-Path $venv 'Scripts\python.exe'

function Test-App([string]$dir) {
    $ErrorActionPreference = 'Continue'
    $exe = Join-Path $dir 'Scripts\motcua.exe'
    if (-not (Test-Path -LiteralPath $exe)) { return $false }
    & $exe --help 2>$null | Out-Null
    if ($LASTEXITCODE -ne 0) { return $false }
    & (Join-Path $dir 'Scripts\python.exe') -c 'import desktop.app, server.cli' 2>$null | Out-Null
    return ($LASTEXITCODE -eq 0)
}

if ((Test-Path -LiteralPath (Join-Path $venv '.complete')) -and (Test-App $venv)) {
    Write-Host "== Bản $version này đã được cài; chỉ cập nhật lối tắt (already installed; refreshing)."
} else {
    Write-Host "== Cài Một Cửa Xã $version vào $venv (không cần mạng)..."
    if (Test-Path -LiteralPath $venv) { Remove-Item -LiteralPath $venv -Recurse -Force }
    # No network, ever: no index, no config file that might name one.
    $env:PIP_NO_INDEX = '1'; $env:PIP_CONFIG_FILE = 'NUL'; $env:PIP_DISABLE_PIP_VERSION_CHECK = '1'
    $pipOpts = @('--no-index', '--find-links', $wheels, '--no-cache-dir', '--only-binary=:all:', '--quiet')
    $ok = $true
    & $py -m venv --without-pip $venv
    if ($LASTEXITCODE -ne 0) { $ok = $false }
    if ($ok) { & $venvPython (Join-Path $pipWheel.FullName 'pip') install @pipOpts pip; $ok = ($LASTEXITCODE -eq 0) }
    if ($ok) { & $venvPython -m pip install @pipOpts $appRequirement; $ok = ($LASTEXITCODE -eq 0) }
    if ($ok) { $ok = Test-App $venv }
    if (-not $ok) {
        if (Test-Path -LiteralPath $venv) { Remove-Item -LiteralPath $venv -Recurse -Force }
        Fail 'Cài đặt thất bại (xem thông báo ở trên). Bản đang dùng (nếu có) vẫn giữ nguyên.' 'install failed; the previous install, if any, is unchanged'
    }
    New-Item -ItemType File -Force -Path (Join-Path $venv '.complete') | Out-Null
}

# Windows has no cheap symlink without admin rights: current.txt names the live venv, and the
# commands and shortcuts are rewritten to point at it.
$currentFile = Join-Path $Prefix 'current.txt'
$previous = if (Test-Path -LiteralPath $currentFile) { (Get-Content -LiteralPath $currentFile -Raw).Trim() } else { '' }

# --- 4. commands and shortcuts --------------------------------------------------------------------
$binDir = Join-Path $Prefix 'bin'
New-Item -ItemType Directory -Force -Path $binDir | Out-Null
$scripts = Join-Path $venv 'Scripts'
Set-Content -LiteralPath (Join-Path $binDir 'motcua.cmd') -Encoding Default -Value "@`"$scripts\motcua.exe`" %*"
Set-Content -LiteralPath (Join-Path $binDir 'motcua-server.cmd') -Encoding Default -Value "@`"$scripts\motcua-server.exe`" %*"
Set-Content -LiteralPath (Join-Path $binDir 'motcua-app.cmd') -Encoding Default -Value "@start `"`" `"$scripts\pythonw.exe`" -m desktop.app %*"
$userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
if (-not $userPath) { $userPath = '' }
if (-not (($userPath -split ';') -contains $binDir)) {
    [Environment]::SetEnvironmentVariable('Path', (($userPath.TrimEnd(';') + ";$binDir").TrimStart(';')), 'User')
}

if (-not $NoShortcuts) {
    $shell = New-Object -ComObject WScript.Shell
    $places = @([Environment]::GetFolderPath('Programs'), [Environment]::GetFolderPath('Desktop'))
    foreach ($place in $places) {
        if (-not $place) { continue }
        $link = $shell.CreateShortcut((Join-Path $place 'Một Cửa Xã.lnk'))
        $link.TargetPath = Join-Path $scripts 'pythonw.exe'
        $link.Arguments = '-m desktop.app'
        $link.WorkingDirectory = $env:USERPROFILE
        $link.Description = 'Tiếp nhận và đăng ký hồ sơ hộ tịch tại xã'
        $link.Save()
    }
}

Set-Content -LiteralPath $currentFile -Value $venvName -Encoding ASCII
foreach ($d in Get-ChildItem -LiteralPath $Prefix -Directory -Filter 'app-*') {
    if ($d.Name -ne $venvName -and $d.Name -ne $previous) { Remove-Item -LiteralPath $d.FullName -Recurse -Force }
}

# --- 5. done --------------------------------------------------------------------------------------
$elapsed = [int](((Get-Date) - $Started).TotalSeconds)
Write-Host ''
Write-Host "== XONG (done in ${elapsed}s): Một Cửa Xã $version đã được cài vào $venv"
Write-Host "   Lệnh: $binDir\motcua.cmd (mở cửa sổ dòng lệnh mới để dùng lệnh motcua)"
Write-Host ''
Write-Host 'Bước tiếp theo: mở "Một Cửa Xã" trên màn hình; lần đầu sẽ hiện trình hướng dẫn'
Write-Host '(chọn xã, địa chỉ máy chủ tỉnh, mã đăng ký, tài khoản cán bộ đầu tiên).'
Write-Host 'Hoặc bằng dòng lệnh: motcua --profile THƯ_MỤC enrol --server URL --code MÃ'
