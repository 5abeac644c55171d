/** `n`: submit a job through a form checked field by field, as `cr submit` checks its flags. */
import { SceneNotFoundError } from '../../node/controller/errors.js'
import { assertSceneExists } from '../../node/controller/job-input.js'
import type { FarmSource } from '../farm-source.js'
import { emptySubmitValues, SUBMIT_FIELDS, submitErrors, submittedJob, type SubmitValues } from '../model/submit-form.js'
import { FieldForm } from './FieldForm.js'
import type { Status } from './StatusLine.js'
import { useFieldForm } from './use-field-form.js'

export interface SubmitFormProps {
  readonly user: string
  readonly source: FarmSource
  readonly onDone: (text: string) => void
  readonly onCancel: () => void
  readonly onStatus: (status: Status) => void
}

export function SubmitForm ({ user, source, onDone, onCancel, onStatus }: SubmitFormProps): React.JSX.Element {
  const state = useFieldForm({
    fields: SUBMIT_FIELDS,
    initial: emptySubmitValues(user),
    check: (values: SubmitValues) => submitErrors(values, user),
    onCancel,
    onError: (error) => { onStatus({ kind: 'failed', text: error.message }) },
    onSubmit: async (values: SubmitValues) => {
      const built = submittedJob(values, user)
      if ('field' in built) {
        onStatus({ kind: 'failed', text: `${built.field}: ${built.why}` })
        return { [built.field]: built.why }
      }
      try {
        // The artist's machine is where the scene is saved from, as `cr submit` assumes.
        await assertSceneExists(built.job)
      } catch (error) {
        if (!(error instanceof SceneNotFoundError)) throw error
        onStatus({ kind: 'failed', text: `scenePath: ${error.message}` })
        return { scenePath: `not found on this machine: ${error.scenePath}` }
      }
      onStatus({ kind: 'busy', text: `submitting ${built.job.name}` })
      await source.write({ type: 'job.submitted', job: built.job })
      onDone(`submitted ${built.job.name}`)
      return undefined
    }
  })
  return <FieldForm title='Submit a job' fields={SUBMIT_FIELDS} state={state} />
}
