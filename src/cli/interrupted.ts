/** How a long-running command (logs --follow, export --follow) waits for the person to stop it. */

/** Resolves on Ctrl+C or SIGTERM, which then end the command normally (exit 0). */
export async function untilInterrupted (): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
  })
}
