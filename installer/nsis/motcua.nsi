; Một Cửa Xã: the Windows setup program (NSIS 3, 64-bit Unicode stub).
;
; Built by installer/build_windows.py, which passes:
;   VERSION  the app's version (0.2.0)     PAYLOAD  the folder to install (python\, motcua.cmd)
;   OUTFILE  the setup .exe to write        COMPRESSOR  lzma (release) or zlib (fast test builds)
;   PYTHON_OPTIONS  options of every start of the installed Python (-X utf8)
;
; Per machine, under Program Files; shortcuts in the Start menu and on the public desktop;
; registered in Windows' list of programs; /S installs or uninstalls silently. Installing over
; an older version upgrades it in place. The clerks' data is never in the program folder: the app
; keeps it in each user's %APPDATA%\motcua, which only the uninstaller's explicit "delete the
; data" answer (or /PURGE) removes.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID ${COMPRESSOR}

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!define APP_NAME "Một Cửa Xã"
!define APP_FOLDER "MotCuaXa"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_FOLDER}"
!define MENU_DIR "$SMPROGRAMS\${APP_NAME}"
!define APP_LINK "${APP_NAME}.lnk"
!define APP_COMMENT "Tiếp nhận và đăng ký hồ sơ hộ tịch tại xã (không cần mạng)"

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_FOLDER}"
; An upgrade goes where the previous version is.
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
RequestExecutionLevel admin
BrandingText "${APP_NAME} ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "Cài đặt ${APP_NAME}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${APP_NAME}"

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\python\pythonw.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "${PYTHON_OPTIONS} -m desktop.app"
!define MUI_FINISHPAGE_RUN_TEXT "Mở ${APP_NAME} (lần đầu: trình hướng dẫn cài đặt)"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "Vietnamese"

Section "${APP_NAME}" SecApp
  SectionIn RO
  SetShellVarContext all
  ; Upgrade in place: the previous program files go first, so no module of an older version
  ; lingers. Only program files live here.
  RMDir /r "$INSTDIR\python"
  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}\*.*"
  ; Compile the modules once, here, where an unprivileged clerk could not write them later
  ; (otherwise every start of the app would compile them again).
  DetailPrint "Đang chuẩn bị các mô-đun Python..."
  nsExec::ExecToLog '"$INSTDIR\python\python.exe" ${PYTHON_OPTIONS} -m compileall -q "$INSTDIR\python\Lib"'
  Pop $0
  ${If} $0 != 0
    DetailPrint "Cảnh báo: biên dịch trước không xong ($0); ứng dụng vẫn chạy được."
  ${EndIf}
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  ; Shortcuts start the app from the user's own folder (relative paths in dialogs land there).
  SetOutPath "$PROFILE"
  CreateDirectory "${MENU_DIR}"
  CreateShortcut "${MENU_DIR}\${APP_LINK}" "$INSTDIR\python\pythonw.exe" "${PYTHON_OPTIONS} -m desktop.app" \
    "$INSTDIR\python\pythonw.exe" 0 SW_SHOWNORMAL "" "${APP_COMMENT}"
  CreateShortcut "$DESKTOP\${APP_LINK}" "$INSTDIR\python\pythonw.exe" "${PYTHON_OPTIONS} -m desktop.app" \
    "$INSTDIR\python\pythonw.exe" 0 SW_SHOWNORMAL "" "${APP_COMMENT}"
  CreateShortcut "${MENU_DIR}\Kiểm tra cài đặt.lnk" "$SYSDIR\cmd.exe" \
    '/k ""$INSTDIR\motcua.cmd" --self-check"' "$INSTDIR\python\python.exe" 0 SW_SHOWNORMAL "" \
    "Kiểm tra ứng dụng chạy được trên máy này"
  CreateShortcut "${MENU_DIR}\Gỡ bỏ ${APP_NAME}.lnk" "$INSTDIR\Uninstall.exe"
  SetOutPath "$INSTDIR"

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${APP_NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\python\pythonw.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0
SectionEnd

; Delete the current user's profile folder: the clerks' encrypted database, keys and scans.
; (The shell context is "current" by then: $APPDATA is the user's own.)
Function un.PurgeData
  DetailPrint "Xoá dữ liệu: $APPDATA\motcua"
  RMDir /r "$APPDATA\motcua"
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  Delete "$DESKTOP\${APP_LINK}"
  RMDir /r "${MENU_DIR}"
  RMDir /r "$INSTDIR\python"
  Delete "$INSTDIR\motcua.cmd"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINST_KEY}"

  ; The data stays unless the uninstaller is asked, explicitly: /PURGE, or "Yes" to the question
  ; (whose default is No, and which a silent uninstall answers No).
  SetShellVarContext current
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    Call un.PurgeData
  ${Else}
    MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 \
      "Xoá luôn DỮ LIỆU hồ sơ hộ tịch của người dùng này ($APPDATA\motcua)?$\r$\n$\r$\nChỉ chọn Có khi dữ liệu đã được đồng bộ lên tỉnh hoặc đã sao lưu. Chọn Không để giữ lại dữ liệu (cài lại sau vẫn dùng được)." \
      /SD IDNO IDNO keep_data
    Call un.PurgeData
    keep_data:
  ${EndIf}
SectionEnd
