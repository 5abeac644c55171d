/** The launchd daemon for macOS: loaded at boot, kept alive, stopped with SIGTERM. */
import { SERVICE_LABEL, serviceCommand, type ServiceSpec } from './service-spec.js'
import { xmlText } from './xml.js'

export function launchdPlist (spec: ServiceSpec): string {
  const args = serviceCommand(spec).map((argument) => `    <string>${xmlText(argument)}</string>`)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${SERVICE_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    '  <key>WorkingDirectory</key>',
    `  <string>${xmlText(spec.workingDirectory)}</string>`,
    ...(spec.user === undefined ? [] : ['  <key>UserName</key>', `  <string>${xmlText(spec.user)}</string>`]),
    ...(spec.group === undefined ? [] : ['  <key>GroupName</key>', `  <string>${xmlText(spec.group)}</string>`]),
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ExitTimeOut</key>',
    `  <integer>${spec.stopTimeoutSec}</integer>`,
    '</dict>',
    '</plist>',
    ''
  ].join('\n')
}
