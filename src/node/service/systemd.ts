/** The systemd unit for Linux: a system service, restarted when it fails, stopped with SIGTERM. */
import { SERVICE_DESCRIPTION, serviceCommand, type ServiceSpec } from './service-spec.js'

/** Quotes one argument for an ExecStart line (systemd.syntax: C-style escapes in double quotes). */
function quote (argument: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument
  return `"${argument.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')}"`
}

export function systemdUnit (spec: ServiceSpec): string {
  const lines = [
    '[Unit]',
    `Description=${SERVICE_DESCRIPTION}`,
    'Documentation=https://constellation.invalid/docs/node',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${serviceCommand(spec).map(quote).join(' ')}`,
    `WorkingDirectory=${spec.workingDirectory}`,
    ...(spec.user === undefined ? [] : [`User=${spec.user}`]),
    ...(spec.group === undefined ? [] : [`Group=${spec.group}`]),
    // SIGTERM lets the node release (or finish) its block before it exits.
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${spec.stopTimeoutSec}`,
    'Restart=on-failure',
    'RestartSec=5',
    'Environment=NODE_ENV=production',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ''
  ]
  return lines.join('\n')
}
