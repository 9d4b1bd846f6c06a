import { api } from '../api.js'
import { confirmAction, errorBox, field, fill, h, onSubmit, status, table, time } from '../dom.js'

// The Backups page's policies: retention (the default, each user's, each device's own) and legal holds.
// Each change forgets at once what the policies no longer keep, so the page's snapshot list is
// reloaded after it (`afterForgetting`).

const RULES = [
  ['last', 'Last', 'the newest N snapshots'],
  ['hourly', 'Hourly', 'the newest of each of the last N hours'],
  ['daily', 'Daily', 'the newest of each of the last N days'],
  ['weekly', 'Weekly', 'the newest of each of the last N weeks (ISO weeks)'],
  ['monthly', 'Monthly', 'the newest of each of the last N months']
]

function forgottenText (forgotten) {
  return forgotten.length === 0 ? 'No snapshot was forgotten.' : `${forgotten.length} ${forgotten.length === 1 ? 'snapshot was' : 'snapshots were'} forgotten.`
}

export function retentionSection (initial, devices, deviceNames, afterForgetting) {
  let policies = initial
  const body = h('div', { id: 'retention-list' })
  const result = h('p', { id: 'retention-result', role: 'status' })
  const scopeName = scope => scope === 'default' ? 'Default' : scope.startsWith('user:') ? `Every device of ${scope.slice(5)}` : deviceNames.get(scope) ?? scope
  const reload = async () => {
    policies = (await api('GET', '/backup/retention')).policies
    show()
    fillFrom()
    await afterForgetting()
  }
  const clearButton = p => h('button', {
    type: 'button',
    class: 'danger small',
    'aria-label': `Clear the policy of ${scopeName(p.scope)}`,
    onclick: async () => {
      const sure = await confirmAction(p.scope === 'default' ? 'Clear the default policy?' : `Clear the policy of ${scopeName(p.scope)}?`,
        p.scope === 'default'
          ? 'Devices without a policy of their own then keep every snapshot.'
          : `${scopeName(p.scope)} then follows the default policy, at once: snapshots it does not keep are forgotten (unless on legal hold). This cannot be undone.`,
        'Clear policy')
      if (!sure) return
      try {
        const { forgotten } = await api('DELETE', `/backup/retention/${encodeURIComponent(p.scope)}`)
        fill(result, status('ok', `Policy of ${scopeName(p.scope)} cleared. ${forgottenText(forgotten)}`))
        await reload()
      } catch (err) {
        fill(result, status('bad', `Could not clear the policy: ${err.message}`))
      }
    }
  }, 'Clear')
  const show = () => {
    const ordered = [...policies].sort((a, b) => a.scope === 'default' ? -1 : b.scope === 'default' ? 1 : scopeName(a.scope).localeCompare(scopeName(b.scope)))
    fill(body,
      policies.some(p => p.scope === 'default') ? null : h('p', { id: 'retention-no-default' }, 'No default policy: a device without its own keeps every snapshot.'),
      ordered.length === 0
        ? null
        : table('Retention policies', ['Applies to', ...RULES.map(r => r[1]), 'Set by', 'Action'], ordered.map(p => h('tr', { 'data-scope': p.scope },
          h('th', { scope: 'row' }, p.scope === 'default' ? 'Default (devices without their own)' : scopeName(p.scope)),
          RULES.map(([rule]) => h('td', {}, String(p.policy[rule]))),
          h('td', {}, p.setBy, h('span', { class: 'muted block' }, time(p.setAt))),
          h('td', {}, clearButton(p))))))
  }

  const errors = errorBox()
  const scope = h('select', { name: 'scope', id: 'retention-scope' },
    h('option', { value: 'default' }, 'Default (devices without their own)'),
    [...new Set(devices.map(d => d.user.toLowerCase()))].sort().map(user => h('option', { value: `user:${user}` }, `Every device of ${user} (without its own)`)),
    devices.map(d => h('option', { value: d.deviceId }, `${d.deviceName} (${d.user})`)))
  const inputs = Object.fromEntries(RULES.map(([rule]) => [rule, h('input', { name: rule, id: `retention-${rule}`, type: 'number', min: 0, max: 100000, step: 1, inputmode: 'numeric', required: true, value: 0 })]))
  // The form starts from the chosen scope's policy, so changing one number keeps the others.
  const fillFrom = () => {
    const current = policies.find(p => p.scope === scope.value)?.policy
    for (const [rule] of RULES) inputs[rule].value = String(current?.[rule] ?? 0)
  }
  scope.addEventListener('change', fillFrom)
  const form = h('form', { novalidate: true, id: 'retention-form', class: 'subform' },
    h('h3', {}, 'Set a policy'),
    field('Applies to', scope),
    h('div', { class: 'row' }, RULES.map(([rule, label, hint]) => field(label, inputs[rule], `Keep ${hint}.`))),
    h('p', { class: 'hint' }, 'A snapshot any rule keeps is kept; 0 turns a rule off, and all zeros keep everything. Applied at once: snapshots the policy does not keep are forgotten, unless on legal hold.'),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save policy')))
  onSubmit(form, errors, async () => {
    fill(result)
    const policy = {}
    for (const [rule, label] of RULES) {
      const text = inputs[rule].value.trim()
      if (!/^\d+$/.test(text)) throw new Error(`Enter ${label.toLowerCase()} as a whole number (0 turns it off).`)
      policy[rule] = Number(text)
    }
    const { forgotten } = await api('PUT', `/backup/retention/${encodeURIComponent(scope.value)}`, policy)
    fill(result, status('ok', `Policy of ${scopeName(scope.value)} saved. ${forgottenText(forgotten)}`))
    await reload()
  })

  const apply = h('button', {
    type: 'button',
    class: 'secondary',
    id: 'retention-apply',
    onclick: async () => {
      apply.disabled = true
      try {
        const { forgotten } = await api('POST', '/backup/retention/apply')
        fill(result, status('ok', `Policies applied. ${forgottenText(forgotten)}`))
        await afterForgetting()
      } catch (err) {
        fill(result, status('bad', `Could not apply the policies: ${err.message}`))
      } finally {
        apply.disabled = false
      }
    }
  }, 'Apply now')

  show()
  fillFrom()
  return h('section', { class: 'panel', 'aria-labelledby': 'retention-title' },
    h('h2', { id: 'retention-title' }, 'Retention'),
    h('p', { class: 'muted' }, 'The server applies the policies hourly and after each new snapshot; hours, days, weeks and months are counted in UTC.'),
    body,
    h('div', { class: 'actions' }, apply),
    result,
    form)
}

export function holdsSection (initial, devices, deviceNames, afterForgetting) {
  const body = h('div', { id: 'hold-list' })
  const result = h('p', { id: 'hold-result', role: 'status' })
  const subjectName = hold => hold.kind === 'user' ? hold.subject : `${deviceNames.get(hold.subject) ?? hold.subject}`
  const show = holds => {
    fill(body, holds.length === 0
      ? h('p', {}, 'No legal holds.')
      : table('Legal holds', ['On', 'Reason', 'Set by', 'Action'], holds.map(hold => h('tr', { 'data-hold': `${hold.kind}:${hold.subject}` },
        h('th', { scope: 'row', class: 'wrap' }, hold.kind === 'user' ? 'User ' : 'Device ', h('strong', {}, subjectName(hold)),
          hold.kind === 'device' ? h('code', { class: 'muted block' }, hold.subject) : null),
        h('td', { class: 'wrap' }, hold.reason),
        h('td', {}, hold.setBy, h('span', { class: 'muted block' }, time(hold.setAt))),
        h('td', {}, liftButton(hold))))))
  }
  const reload = async () => show((await api('GET', '/backup/holds')).holds)
  const liftButton = hold => h('button', {
    type: 'button',
    class: 'danger small',
    'aria-label': `Lift the hold on ${subjectName(hold)}`,
    onclick: async () => {
      const sure = await confirmAction(`Lift the hold on ${subjectName(hold)}?`,
        'Retention then applies to their snapshots again, at once: snapshots their policy does not keep are forgotten. This cannot be undone.', 'Lift hold')
      if (!sure) return
      try {
        const { forgotten } = await api('DELETE', `/backup/holds/${hold.kind}/${encodeURIComponent(hold.subject)}`)
        fill(result, status('ok', `Hold on ${subjectName(hold)} lifted. ${forgottenText(forgotten)}`))
        await reload()
        await afterForgetting()
      } catch (err) {
        fill(result, status('bad', `Could not lift the hold: ${err.message}`))
      }
    }
  }, 'Lift')

  const errors = errorBox()
  const kind = h('select', { name: 'kind', id: 'hold-kind' }, h('option', { value: 'user' }, 'A user\'s snapshots (every device of theirs)'), h('option', { value: 'device' }, 'One device\'s snapshots'))
  const userField = field('User (e-mail)', h('input', { name: 'user', id: 'hold-user', type: 'email', autocomplete: 'off', maxlength: 128 }))
  const deviceField = field('Device', h('select', { name: 'device', id: 'hold-device' }, devices.map(d => h('option', { value: d.deviceId }, `${d.deviceName} (${d.user})`))))
  deviceField.hidden = true
  kind.addEventListener('change', () => {
    userField.hidden = kind.value !== 'user'
    deviceField.hidden = kind.value !== 'device'
  })
  const form = h('form', { novalidate: true, id: 'hold-form', class: 'subform' },
    h('h3', {}, 'Put on legal hold'),
    h('div', { class: 'row' }, field('Hold', kind), userField, deviceField),
    field('Reason', h('input', { name: 'reason', id: 'hold-reason', required: true, maxlength: 500, autocomplete: 'off' }), 'Kept with the hold and in the audit log, e.g. a case number.'),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Put on hold')))
  onSubmit(form, errors, async data => {
    fill(result)
    const subject = String(kind.value === 'user' ? data.get('user') : data.get('device') ?? '').trim()
    if (subject === '') throw new Error(kind.value === 'user' ? 'Enter the user\'s e-mail.' : 'Choose the device.')
    const reason = String(data.get('reason') ?? '').trim()
    if (reason === '') throw new Error('Give a reason (a case number will do).')
    const { hold } = await api('PUT', `/backup/holds/${kind.value}/${encodeURIComponent(subject)}`, { reason })
    fill(result, status('ok', `${subjectName(hold)} is on legal hold: none of their snapshots is forgotten until it is lifted.`))
    form.reset()
    userField.hidden = false
    deviceField.hidden = true
    await reload()
  })

  show(initial)
  return h('section', { class: 'panel', 'aria-labelledby': 'holds-title' },
    h('h2', { id: 'holds-title' }, 'Legal holds'),
    h('p', { class: 'muted' }, 'While a user or device is on hold, none of their snapshots is forgotten, whatever the policy.'),
    body,
    result,
    form)
}
