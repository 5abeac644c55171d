/**
 * The artist's live monitor: four screens over one farm snapshot, a key table, and the
 * actions written through the controller. Screens are windowed to the terminal, and the
 * job rows are cached per job revision, so a farm of 1,000 jobs renders no slower for
 * the 999 that did not change.
 */
import { Box, useApp, useInput, useWindowSize, type Key } from 'ink'
import { useMemo, useRef, useState } from 'react'
import type { JobView, NodeView } from '../../protocol/view.js'
import { localTimeIn } from '../../node/local-time.js'
import { commandFor, type Command } from '../keys.js'
import type { FarmSource } from '../farm-source.js'
import type { FarmAction } from '../actions.js'
import { blockAction, jobAction, nodeSettings, setPriority, type JobVerb } from '../actions.js'
import { jobDetail } from '../model/job-detail.js'
import { JobRows, matchesFilter, type JobRow } from '../model/jobs.js'
import { describeLogFilter, logLines, NO_LOG_FILTER, type LogFilter } from '../model/logs.js'
import { nodeRows, type NodeRow } from '../model/nodes.js'
import { SEVERITIES } from '../model/snapshot.js'
import { clampSelection } from '../model/window.js'
import { SCREENS, type Screen } from '../screens.js'
import { useFarm } from '../use-farm.js'
import { Header } from './Header.js'
import { HelpOverlay } from './HelpOverlay.js'
import { JobDetailScreen } from './JobDetailScreen.js'
import { JobsScreen } from './JobsScreen.js'
import { LogsScreen } from './LogsScreen.js'
import { NodesScreen } from './NodesScreen.js'
import { Prompt } from './Prompt.js'
import { StatusLine, type Status } from './StatusLine.js'
import { NodeEditor } from './NodeEditor.js'
import { SubmitForm } from './SubmitForm.js'
import { edited, keystrokes } from './text-input.js'
import { useLiveState } from './use-live-state.js'

export interface AppProps {
  readonly source: FarmSource
  /** Who submits, as the form's default user. */
  readonly user: string
  /** Fixed terminal size, for tests; the real terminal's (and its resizes) otherwise. */
  readonly size?: { readonly columns: number, readonly rows: number }
  readonly now?: () => number
  /** Open on this job's detail screen (the demo shows its blocks move) instead of Jobs. */
  readonly startOnJob?: string
}

type Overlay =
  | { readonly kind: 'help' }
  | { readonly kind: 'confirm', readonly action: FarmAction }
  | { readonly kind: 'filter', readonly value: string }
  | { readonly kind: 'priority', readonly jobId: string, readonly value: string }
  | { readonly kind: 'submit' }
  | { readonly kind: 'node', readonly nodeId: string }

/** Header (2), table header (1), status line (1). */
const CHROME_LINES = 4
const localTime = localTimeIn()

/** The name a key goes by in the key table. */
function keyName (input: string, key: Key): string {
  if (key.upArrow) return 'up'
  if (key.downArrow) return 'down'
  if (key.pageUp) return 'pageup'
  if (key.pageDown) return 'pagedown'
  if (key.return) return 'return'
  if (key.escape) return 'escape'
  if (key.tab) return 'tab'
  if (key.end) return 'end'
  if (key.backspace || key.delete) return 'backspace'
  return input
}

export function App ({ source, user, size, now = Date.now, startOnJob }: AppProps): React.JSX.Element {
  const { exit } = useApp()
  const terminal = useWindowSize()
  const { columns, rows } = size ?? terminal
  const { snapshot, nowMs } = useFarm(source, now)
  // What keys act on is live state: keys in one chunk each see what the keys before them left.
  const screenState = useLiveState<Screen>(startOnJob === undefined ? 'jobs' : 'detail')
  const screen = screenState.shown
  const setScreen = screenState.set
  const selectedState = useLiveState({ job: 0, node: 0, block: 0 })
  const selected = selectedState.shown
  const openJobIdState = useLiveState<string | null>(startOnJob ?? null)
  const jobFilterState = useLiveState('')
  const jobFilter = jobFilterState.shown
  const [logFilter, setLogFilter] = useState<LogFilter>(NO_LOG_FILTER)
  const [logBack, setLogBack] = useState(0)
  const overlayState = useLiveState<Overlay | null>(null)
  const overlay = overlayState.shown
  const setOverlay = overlayState.set
  const [status, setStatus] = useState<Status>({ kind: 'idle' })
  const jobRowCache = useRef(new JobRows()).current
  /** The latest action asked for, so the status line tells its outcome rather than an earlier one's. */
  const lastAction = useRef(0)
  /** What the open prompt holds as typed so far. */
  const promptValue = useRef('')
  /** Per job: the priority last asked for by +/-, and the one on screen when it was asked. */
  const pendingPriority = useRef(new Map<string, { readonly target: number, readonly shown: number }>()).current
  const bodyHeight = Math.max(3, rows - CHROME_LINES)

  const allJobRows = useMemo(() => jobRowCache.rows(snapshot.view.jobs, snapshot.goneHolders), [jobRowCache, snapshot])
  const jobRows = useMemo(() => allJobRows.filter((row) => matchesFilter(row, jobFilter)), [allJobRows, jobFilter])
  const jobIndex = clampSelection(selected.job, jobRows.length)
  const jobOf = (id: string | null): JobView | null => snapshot.view.jobs.find((job) => job.id === id) ?? null
  const openJob = jobOf(openJobIdState.shown)
  // Only the screen on show is derived: the others cost nothing until opened.
  const nodes = useMemo(() => (screen === 'nodes' ? nodeRows(snapshot, nowMs, localTime(nowMs)) : []), [screen, snapshot, nowMs])
  const nodeIndex = clampSelection(selected.node, nodes.length)
  const detail = useMemo(() => (screen === 'detail' && openJob !== null ? jobDetail(openJob, snapshot, nowMs) : null), [screen, openJob, snapshot, nowMs])
  const lines = useMemo(() => (screen === 'logs' ? logLines(snapshot.logs, logFilter, snapshot.view) : []), [screen, snapshot, logFilter])

  // The rows, job and node the next key acts on: derived from the live state, reusing the drawn rows while they agree.
  const jobRowsNow = (): JobRow[] => jobFilterState.now() === jobFilter ? jobRows : allJobRows.filter((row) => matchesFilter(row, jobFilterState.now()))
  const currentJobNow = (): JobView | undefined => {
    const rows = jobRowsNow()
    return rows[clampSelection(selectedState.now().job, rows.length)]?.job
  }
  const actedJobNow = (): JobView | undefined => screenState.now() === 'detail' ? jobOf(openJobIdState.now()) ?? undefined : currentJobNow()
  const nodesNow = (): NodeRow[] => screen === 'nodes' ? nodes : nodeRows(snapshot, nowMs, localTime(nowMs))
  const currentNodeNow = (): NodeView | undefined => {
    const rows = nodesNow()
    return rows[clampSelection(selectedState.now().node, rows.length)]?.node
  }

  const run = (action: FarmAction, settled = (_failed: boolean): void => undefined): void => {
    const ticket = ++lastAction.current
    setStatus({ kind: 'busy', text: action.done })
    source.write(action.body).then(
      () => {
        // An earlier action confirmed late must not hide a later one's progress; a failure always shows.
        if (ticket === lastAction.current) setStatus({ kind: 'done', text: action.done })
        settled(false)
      },
      (error: unknown) => {
        setStatus({ kind: 'failed', text: (error as Error).message })
        settled(true)
      }
    )
  }
  const ask = (action: FarmAction): void => {
    if (action.confirm === undefined) run(action)
    else setOverlay({ kind: 'confirm', action })
  }
  const move = (step: number): void => {
    const on = screenState.now()
    if (on === 'logs') {
      setLogBack((back) => Math.max(0, back - step))
      return
    }
    const field = on === 'jobs' ? 'job' : on === 'nodes' ? 'node' : 'block'
    const count = on === 'jobs' ? jobRowsNow().length : on === 'nodes' ? nodesNow().length : jobOf(openJobIdState.now())?.blocks.length ?? 0
    selectedState.set((current) => ({ ...current, [field]: clampSelection(current[field] + step, count) }))
  }
  const jobVerb = (verb: JobVerb): void => {
    const actedJob = actedJobNow()
    if (actedJob === undefined) {
      setStatus({ kind: 'failed', text: 'no job selected' })
      return
    }
    if (verb !== 'priority-up' && verb !== 'priority-down') {
      ask(jobAction(actedJob, verb))
      return
    }
    // Keys pressed faster than the screen shows their writes step on from the priority asked
    // for, not the one shown; once the screen shows it (or the write failed) it is forgotten.
    const asked = pendingPriority.get(actedJob.id)
    const base = asked === undefined || asked.shown !== actedJob.priority ? actedJob.priority : asked.target
    const action = jobAction({ ...actedJob, priority: base }, verb)
    const target = action.body.type === 'job.edited' ? action.body.changes.priority ?? base : base
    pendingPriority.set(actedJob.id, { target, shown: actedJob.priority })
    run(action, (failed) => { if (failed && pendingPriority.get(actedJob.id)?.target === target) pendingPriority.delete(actedJob.id) })
  }
  const prompt = (opened: Extract<Overlay, { kind: 'filter' | 'priority' }>): void => {
    promptValue.current = opened.value
    setOverlay(opened)
  }
  const open = (to: Screen): void => {
    const currentJob = currentJobNow()
    if (to === 'detail' && currentJob !== undefined && screenState.now() === 'jobs') openJobIdState.set(currentJob.id)
    setScreen(to)
  }
  const withNode = (act: (node: NodeView) => void): void => {
    const node = currentNodeNow()
    if (node !== undefined) act(node)
  }

  const commands: Readonly<Record<Command, () => void>> = {
    quit: () => { exit() },
    help: () => { setOverlay({ kind: 'help' }) },
    'next-screen': () => { open(SCREENS[(SCREENS.findIndex(({ id }) => id === screenState.now()) + 1) % SCREENS.length]?.id ?? 'jobs') },
    'screen-jobs': () => { open('jobs') },
    'screen-detail': () => { open('detail') },
    'screen-nodes': () => { open('nodes') },
    'screen-logs': () => { open('logs') },
    up: () => { move(-1) },
    down: () => { move(1) },
    'page-up': () => { move(-bodyHeight) },
    'page-down': () => { move(bodyHeight) },
    open: () => { open('detail') },
    back: () => { setScreen('jobs') },
    filter: () => { prompt({ kind: 'filter', value: jobFilterState.now() }) },
    halt: () => { jobVerb('halt') },
    resume: () => { jobVerb('resume') },
    enable: () => { jobVerb('enable') },
    disable: () => { jobVerb('disable') },
    'priority-up': () => { jobVerb('priority-up') },
    'priority-down': () => { jobVerb('priority-down') },
    'priority-set': () => {
      const actedJob = actedJobNow()
      if (actedJob !== undefined) prompt({ kind: 'priority', jobId: actedJob.id, value: String(actedJob.priority) })
    },
    retry: () => { jobVerb('retry') },
    delete: () => { jobVerb('delete') },
    submit: () => { setOverlay({ kind: 'submit' }) },
    block: () => { withNode((node) => { ask(blockAction(node)) }) },
    'edit-node': () => { withNode((node) => { setOverlay({ kind: 'node', nodeId: node.id }) }) },
    'logs-of': () => {
      const filter = screenState.now() === 'nodes' ? { ...NO_LOG_FILTER, node: currentNodeNow()?.id ?? null } : { ...NO_LOG_FILTER, jobId: actedJobNow()?.id ?? null }
      setLogFilter(filter)
      setLogBack(0)
      setScreen('logs')
    },
    severity: () => { setLogFilter((filter) => ({ ...filter, minimum: SEVERITIES[(SEVERITIES.indexOf(filter.minimum) + 1) % SEVERITIES.length] ?? 'info' })) },
    'clear-filter': () => { setLogFilter(NO_LOG_FILTER) },
    follow: () => { setLogBack(0) }
  }

  const press = (input: string, key: Key): void => {
    const overlay = overlayState.now()
    const screen = screenState.now()
    if (overlay === null) {
      const command = commandFor(keyName(input, key), screen)
      if (command !== undefined) commands[command]()
      return
    }
    switch (overlay.kind) {
      case 'help':
        setOverlay(null)
        return
      case 'confirm':
        setOverlay(null)
        if (input === 'y' || input === 'Y') run(overlay.action)
        else setStatus({ kind: 'done', text: 'cancelled' })
        return
      case 'filter':
      case 'priority': {
        if (key.escape) {
          setOverlay(null)
          return
        }
        if (key.return) {
          setOverlay(null)
          const job = snapshot.view.jobs.find(({ id }) => overlay.kind === 'priority' && id === overlay.jobId)
          const value = promptValue.current
          if (overlay.kind === 'filter') selectedState.set((current) => ({ ...current, job: 0 }))
          else if (job !== undefined) run(setPriority(job, /^\d+$/.test(value.trim()) ? Number(value) : value))
          return
        }
        // On the prompt as it is by then, not as last rendered: keys can come faster than renders.
        promptValue.current = edited(promptValue.current, input, key)
        setOverlay({ ...overlay, value: promptValue.current })
        if (overlay.kind === 'filter') jobFilterState.set(promptValue.current)
      }
    }
  }
  // Keys typed faster than the terminal is read arrive as one chunk: each is its own key,
  // on the state the keys before it left (the live state), not the last rendered.
  useInput((chunk, chunkKey) => {
    for (const { input, key } of keystrokes(chunk, chunkKey)) press(input, key)
  }, { isActive: overlay?.kind !== 'submit' && overlay?.kind !== 'node' })

  const editedNode = overlay?.kind === 'node' ? snapshot.view.nodes.find((node) => node.id === overlay.nodeId) : undefined
  const close = (): void => { setOverlay(null) }
  const body = (): React.JSX.Element => {
    if (overlay?.kind === 'help') return <HelpOverlay screen={screen} logFile={snapshot.mesh.logFile} />
    if (overlay?.kind === 'submit') return <SubmitForm user={user} source={source} onDone={(text) => { close(); setStatus({ kind: 'done', text }) }} onCancel={close} onStatus={setStatus} />
    if (editedNode !== undefined) return <NodeEditor node={editedNode} onSave={(changes) => { close(); run(nodeSettings(editedNode, 'updated', changes)) }} onCancel={close} onError={(error) => { setStatus({ kind: 'failed', text: error.message }) }} />
    switch (screen) {
      case 'jobs':
        return <JobsScreen rows={jobRows} selected={jobIndex} height={bodyHeight} width={columns} filter={jobFilter} total={allJobRows.length} />
      case 'detail':
        return <JobDetailScreen detail={detail} selectedBlock={clampSelection(selected.block, openJob?.blocks.length ?? 0)} height={bodyHeight} width={columns} />
      case 'nodes':
        return <NodesScreen rows={nodes} selected={nodeIndex} height={bodyHeight} width={columns} />
      case 'logs':
        return <LogsScreen lines={lines} back={logBack} height={bodyHeight} filter={describeLogFilter(logFilter, snapshot.view)} />
    }
  }
  const bottom = (): React.JSX.Element => {
    switch (overlay?.kind) {
      case 'confirm':
        return <Prompt question={`${overlay.action.confirm ?? ''} (y/n)`} value='' />
      case 'filter':
        return <Prompt question='filter jobs:' value={overlay.value} />
      case 'priority':
        return <Prompt question='priority (0-99):' value={overlay.value} />
      default:
        return <StatusLine status={status} />
    }
  }
  return (
    <Box flexDirection='column' width={columns} height={rows}>
      <Header snapshot={snapshot} screen={screen} />
      <Box flexDirection='column' flexGrow={1} overflow='hidden'>{body()}</Box>
      {bottom()}
    </Box>
  )
}
