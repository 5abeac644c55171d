/**
 * The report views, one SELECT per view and per dialect (they differ only in how a
 * timestamp is cut to its hour or day, and in quoting). Every number here can be checked
 * against the farm view: render times are the finished blocks' wall times over their
 * frames, as JobView.renderTime and NodeView.renderTime count them.
 */
import { quoteName, type Dialect } from './dialect.js'

export interface ReportView {
  readonly name: string
  readonly select: string
}

/** Hours and days are UTC in every dialect, as the timestamps are. */
function hourOf (dialect: Dialect, expression: string): string {
  if (dialect === 'sqlite') return `strftime('%Y-%m-%d %H:00:00', ${expression})`
  if (dialect === 'postgres') return `date_trunc('hour', ${expression} AT TIME ZONE 'UTC')`
  return `DATE_FORMAT(${expression}, '%Y-%m-%d %H:00:00')`
}

function dayOf (dialect: Dialect, expression: string): string {
  if (dialect === 'sqlite') return `date(${expression})`
  if (dialect === 'postgres') return `CAST(${expression} AT TIME ZONE 'UTC' AS DATE)`
  return `DATE(${expression})`
}

const FRAMES_OF_BLOCK = '(b.blockFrameEnd - b.blockFrameStart + 1)'

export function reportViews (dialect: Dialect): ReportView[] {
  // Quote every camelCase name: PostgreSQL folds unquoted names to lower case.
  const q = (sql: string): string => sql.replace(/\b(constellation\w+|job\w+|client\w+|block\w+|frame\w+|log\w+|averageFrameMs|renderMs|onlineNodeHours|renderingNodeHours)\b/g, (name) => quoteName(dialect, name))
  return [
    {
      name: 'constellationJobRenderTimeView',
      select: q(`SELECT b.jobUuid, j.jobName, j.jobProject, SUM(${FRAMES_OF_BLOCK}) AS frames, SUM(b.blockWallMs) AS renderMs,
  SUM(b.blockWallMs) / SUM(${FRAMES_OF_BLOCK}) AS averageFrameMs
FROM constellationBlockTable b JOIN constellationJobTable j ON j.jobUuid = b.jobUuid
WHERE b.blockWallMs IS NOT NULL
GROUP BY b.jobUuid, j.jobName, j.jobProject`)
    },
    {
      name: 'constellationNodeRenderTimeView',
      select: q(`SELECT b.blockFinishedBy AS clientId, c.clientName, SUM(${FRAMES_OF_BLOCK}) AS frames, SUM(b.blockWallMs) AS renderMs,
  SUM(b.blockWallMs) / SUM(${FRAMES_OF_BLOCK}) AS averageFrameMs
FROM constellationBlockTable b LEFT JOIN constellationClientTable c ON c.clientId = b.blockFinishedBy
WHERE b.blockWallMs IS NOT NULL
GROUP BY b.blockFinishedBy, c.clientName`)
    },
    {
      // Every failure a node reported, retried or not (the log keeps them all).
      name: 'constellationNodeFailureView',
      select: q(`SELECT l.clientId, c.clientName, COUNT(*) AS failures, COUNT(DISTINCT l.jobUuid) AS jobs
FROM constellationLogTable l LEFT JOIN constellationClientTable c ON c.clientId = l.clientId
WHERE l.logKind = 'block.failed'
GROUP BY l.clientId, c.clientName`)
    },
    {
      name: 'constellationJobFailureView',
      select: q(`SELECT l.jobUuid, j.jobName, j.jobProject, COUNT(*) AS failures, COUNT(DISTINCT l.clientId) AS nodes
FROM constellationLogTable l LEFT JOIN constellationJobTable j ON j.jobUuid = l.jobUuid
WHERE l.logKind = 'block.failed'
GROUP BY l.jobUuid, j.jobName, j.jobProject`)
    },
    {
      // The log holds no heartbeats, so "online" is what it can show: a node counts as
      // online for an hour in which it wrote any event (a claim, a start, a finish, a
      // failure), one node-hour each. A block's wall time counts in the hour it finished,
      // so an hour can exceed 1.0 when long blocks end in it.
      name: 'constellationUtilisationHourView',
      select: q(`SELECT o.hour, o.onlineNodeHours, COALESCE(r.renderingNodeHours, 0) AS renderingNodeHours,
  COALESCE(r.renderingNodeHours, 0) / o.onlineNodeHours AS utilisation
FROM (SELECT ${hourOf(dialect, 'l.logRegistered')} AS hour, COUNT(DISTINCT l.clientId) AS onlineNodeHours
  FROM constellationLogTable l JOIN constellationClientTable c ON c.clientId = l.clientId
  GROUP BY ${hourOf(dialect, 'l.logRegistered')}) o
LEFT JOIN (SELECT ${hourOf(dialect, 'b.blockFinished')} AS hour, SUM(b.blockWallMs) / 3600000.0 AS renderingNodeHours
  FROM constellationBlockTable b WHERE b.blockFinished IS NOT NULL
  GROUP BY ${hourOf(dialect, 'b.blockFinished')}) r ON r.hour = o.hour`)
    },
    {
      name: 'constellationFramesDayView',
      select: q(`SELECT ${dayOf(dialect, 'f.frameFinished')} AS day, COUNT(*) AS frames, COUNT(DISTINCT f.jobUuid) AS jobs, COUNT(DISTINCT f.frameNode) AS nodes
FROM constellationFrameTable f
GROUP BY ${dayOf(dialect, 'f.frameFinished')}`)
    }
  ]
}
