/** Which paths name a folder only this machine has, for `cr submit`'s warning. */
import test from 'ava'
import { machineLocalFolderOf } from '../../src/cli/machine-local.js'

test('temporary, runtime and home folders are this machine\'s; shared roots are not', (t) => {
  const home = '/srv/people/ann'
  t.is(machineLocalFolderOf('/tmp/shot.blend', home), 'a temporary folder')
  t.is(machineLocalFolderOf('/var/tmp/renders', home), 'a temporary folder')
  t.is(machineLocalFolderOf('/dev/shm/x', home), 'a temporary folder')
  t.is(machineLocalFolderOf('/run/user/1000/shot.blend', home), 'a per-user runtime folder')
  t.is(machineLocalFolderOf('/home/artist/shot.blend', home), 'a home folder')
  t.is(machineLocalFolderOf('/Users/artist/shot.blend', home), 'a home folder')
  t.is(machineLocalFolderOf('/srv/people/ann/shot.blend', home), 'a home folder')
  t.is(machineLocalFolderOf('/projects/feature/shot.blend', home), undefined)
  t.is(machineLocalFolderOf('/mnt/renders/shot010', home), undefined)
  t.is(machineLocalFolderOf('/tmpfs-share/shot.blend', home), undefined)
  t.is(machineLocalFolderOf('/homework/shot.blend', home), undefined)
})
