/**
 * Windows: Node.js cannot answer the Service Control Manager itself, so the node runs
 * under WinSW (Windows Service Wrapper, MIT licensed), the wrapper Jenkins ships with.
 * `cr service install` on Windows writes constellation-node.xml beside a copy of
 * WinSW renamed constellation-node.exe, then runs `constellation-node.exe install`.
 * WinSW sends Ctrl+C (SIGINT to Node) on stop and waits `stoptimeout`, which the node
 * treats as SIGTERM: release or finish the block, then exit. Without a user WinSW runs
 * the service as LocalSystem, which may do anything on the machine; `--user` names the
 * account instead (`<serviceaccount>`). No password is ever written here: a built-in
 * account (`NT AUTHORITY\LocalService`) needs none; WinSW's own `install --username
 * <account> --password <password>` takes one for any other.
 */
import { SERVICE_DESCRIPTION, SERVICE_NAME, type ServiceSpec } from './service-spec.js'
import { xmlText } from './xml.js'

/** Quotes a Windows command-line argument (CommandLineToArgvW rules). */
function windowsArgument (argument: string): string {
  if (argument.length > 0 && !/[\s"]/.test(argument)) return argument
  return `"${argument.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`
}

export function winswConfig (spec: ServiceSpec): string {
  const args = [spec.crPath, 'node', '--config', spec.configFile].map(windowsArgument).join(' ')
  return [
    '<service>',
    `  <id>${SERVICE_NAME}</id>`,
    '  <name>Constellation Render node</name>',
    `  <description>${xmlText(SERVICE_DESCRIPTION)}</description>`,
    `  <executable>${xmlText(spec.nodePath)}</executable>`,
    `  <arguments>${xmlText(args)}</arguments>`,
    `  <workingdirectory>${xmlText(spec.workingDirectory)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    `  <stoptimeout>${spec.stopTimeoutSec} sec</stoptimeout>`,
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <log mode="roll-by-size"/>',
    ...(spec.user === undefined ? [] : ['  <serviceaccount>', `    <username>${xmlText(spec.user)}</username>`, '    <allowservicelogon>true</allowservicelogon>', '  </serviceaccount>']),
    '</service>',
    ''
  ].join('\n')
}
