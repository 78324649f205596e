// CSV import wizard (/contacts/import, /companies/import, ?job=<id> to resume).
//
//   1. Upload: pick or drop a file; it is sent in `chunk_size` pieces
//      (File.slice, a few at a time, each retried), then completed.
//   2. Map: detected encoding and delimiter, each column with sample values and
//      a target field (suggested or remembered), how rows match existing
//      records; "Continue" saves the mapping and previews the first rows.
//   3. Import: `run` is called until the job is done, with progress, counts and
//      an ETA; pause, resume (also after a reload) or cancel.
//   4. Done: the summary and the per-row report of skipped rows.

import { h, mount, icon, toastError, pageTitle, timeEl, formatDate } from './ui.js';
import { navigate, updateUrl } from './router.js';
import * as session from './session.js';
import * as crm from './crm-api.js';
import * as imp from './import-api.js';
import { xicon, labelize, actorName, canWrite, timeAgo } from './records.js';
import { emptyState } from './contacts.js';
import { confirmDialog } from './settings-kit.js';
import { progressBar, formatBytes, formatEta, num, sleep } from './bulk-ui.js';

const ENTITIES = {
  contact: { path: '/contacts', title: 'Contacts', plural: 'contacts', singular: 'contact' },
  company: { path: '/companies', title: 'Companies', plural: 'companies', singular: 'company' },
};

const TARGET_LABELS = {
  first_name: 'First name',
  last_name: 'Last name',
  name: 'Full name (split into first and last)',
  email: 'Email',
  emails: 'More emails (separated by , ; or |)',
  phone: 'Phone',
  phones: 'More phones (separated by ; or |)',
  title: 'Job title',
  company: 'Company name',
  lifecycle_stage: 'Lifecycle stage',
  source: 'Source',
  tags: 'Tags (separated by , ; or |)',
  'address.street': 'Street',
  'address.city': 'City',
  'address.region': 'Region or state',
  'address.postal_code': 'Postal code',
  'address.country': 'Country',
  'consent.email': 'Email consent',
  'consent.sms': 'SMS consent',
  'consent.phone': 'Phone consent',
  external_id: 'External ID',
  domain: 'Domain',
  domains: 'More domains (separated by , ; or |)',
  industry: 'Industry',
  size: 'Size (employees)',
  website: 'Website',
};

const STATUS = {
  uploading: ['Uploading', ''],
  mapping: ['Needs mapping', 'accent'],
  ready: ['Ready', 'accent'],
  running: ['In progress', 'accent'],
  indexing: ['Finishing', 'accent'],
  done: ['Done', 'success'],
  failed: ['Stopped', 'danger'],
  cancelled: ['Cancelled', ''],
};

const STEPS = [['upload', 'Upload'], ['map', 'Map columns'], ['run', 'Import'], ['done', 'Done']];

function delimiterLabel(d) {
  if (d === '\t') return 'Tab';
  if (d === ',') return 'Comma (,)';
  if (d === ';') return 'Semicolon (;)';
  if (d === '|') return 'Pipe (|)';
  return d ? `“${d}”` : 'Comma (,)';
}

function statusBadge(status) {
  const [label, kind] = STATUS[status] || [labelize(status), ''];
  return h('span', { class: ['badge', kind && `badge-${kind}`], dataset: { testid: 'import-status', status } }, label);
}

export function importWizardView(root, { entity, query }) {
  const cfg = ENTITIES[entity];
  const controller = new AbortController();
  const signal = controller.signal;
  const state = {
    step: 'upload',
    job: null,
    analysis: null,
    defs: [],
    uploading: false,
    running: false,
    paused: false,
    loop: null,
    destroyed: false,
  };

  pageTitle(`Import ${cfg.plural}`);
  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Import steps' });
  const body = h('div', { class: 'import-body' });
  mount(root,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: cfg.path, class: 'back-link' }, icon('arrowLeft'), cfg.title)),
    h('div', { class: 'page-header' },
      h('div', { class: 'page-heading' },
        h('h1', { class: 'page-title', tabindex: '-1' }, `Import ${cfg.plural}`),
        h('p', { class: 'page-sub' }, `From a CSV file, such as an export from a spreadsheet or another CRM.`))),
    stepper,
    body);

  function renderStepper() {
    const at = STEPS.findIndex(([k]) => k === state.step);
    mount(stepper, STEPS.map(([k, label], i) => h('li', {
      class: ['step', i < at && 'is-done', i === at && 'is-current'],
      'aria-current': i === at ? 'step' : null,
      dataset: { step: k },
    }, h('span', { class: 'step-num', 'aria-hidden': 'true' }, i < at ? icon('check', { size: 13 }) : String(i + 1)), h('span', { class: 'step-label' }, label))));
  }

  function setStep(step) {
    state.step = step;
    renderStepper();
  }

  function jobUrl(id) { return `${cfg.path}/import${id ? `?job=${encodeURIComponent(id)}` : ''}`; }

  // -------------------------------------------------------------------------
  // 1. Upload

  function uploadStep({ resume: interrupted } = {}) {
    let resume = interrupted || null;
    setStep('upload');
    const input = h('input', {
      type: 'file', id: 'import-file', class: 'visually-hidden', accept: '.csv,.tsv,.txt,text/csv,text/plain,text/tab-separated-values',
      dataset: { testid: 'import-file' },
      onchange: () => { const f = input.files?.[0]; if (f) start(f); },
    });
    const drop = h('label', { class: 'dropzone', for: 'import-file', dataset: { testid: 'import-dropzone' } },
      input,
      h('span', { class: 'dropzone-icon', 'aria-hidden': 'true' }, xicon('note', { size: 26 })),
      h('span', { class: 'dropzone-title' }, 'Drop a CSV file here, or ', h('span', { class: 'dropzone-link' }, 'choose a file')),
      h('span', { class: 'dropzone-hint muted' }, 'The first row names the columns. Comma, semicolon or tab separated; UTF-8 or Latin-1; up to 2 GB.'));
    ['dragenter', 'dragover'].forEach((t) => drop.addEventListener(t, (e) => {
      if (![...(e.dataTransfer?.types || [])].includes('Files') || state.uploading) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      drop.classList.add('is-dragging');
    }));
    ['dragleave', 'dragend'].forEach((t) => drop.addEventListener(t, (e) => {
      if (e.type === 'dragleave' && drop.contains(e.relatedTarget)) return;
      drop.classList.remove('is-dragging');
    }));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('is-dragging');
      const f = e.dataTransfer?.files?.[0];
      if (f && !state.uploading) start(f);
    });

    const status = h('div', { class: 'upload-status', hidden: true });
    const error = h('div', { class: 'inline-error', role: 'alert', hidden: true });
    const recent = h('section', { class: 'card import-recent', 'aria-labelledby': 'recent-imports-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'recent-imports-title', class: 'card-title' }, 'Recent imports')),
      h('p', { class: 'muted' }, 'Loading…'));

    mount(body,
      h('section', { class: 'card import-card', 'aria-labelledby': 'upload-title' },
        h('h2', { id: 'upload-title', class: 'card-title' }, 'Choose a file'),
        resume ? h('p', { class: 'import-note', dataset: { testid: 'import-resume-note' } }, icon('alert', { size: 15 }),
          h('span', null, `The upload of ${resume.filename} (${formatBytes(resume.total_bytes)}) did not finish. Choose the same file again to continue it, or another file to start a new import.`)) : null,
        drop, status, error),
      recent);
    loadRecent(recent);

    async function start(file) {
      error.hidden = true;
      if (!file.size) { showError({ title: 'The file is empty', detail: 'Choose a CSV file with a header row and at least one record.' }); return; }
      state.uploading = true;
      drop.classList.add('is-busy');
      input.disabled = true;
      const bar = progressBar({ testid: 'upload-progress', label: `Uploading ${file.name}` });
      const text = h('span', { class: 'upload-text muted', 'aria-live': 'polite' }, 'Starting…');
      const stop = new AbortController();
      const cancelBtn = h('button', { type: 'button', class: 'btn btn-sm', onclick: () => stop.abort() }, 'Cancel');
      status.hidden = false;
      mount(status,
        h('div', { class: 'upload-file' }, xicon('note', { size: 16 }), h('strong', { class: 'truncate' }, file.name), h('span', { class: 'muted' }, formatBytes(file.size)), cancelBtn),
        bar.el, text);
      const both = anySignal([signal, stop.signal]);
      try {
        let job = resume && resume.filename === file.name && resume.total_bytes === file.size && resume.status === 'uploading' ? resume : null;
        if (!job) {
          // A different file than the interrupted upload: that job is dropped.
          if (resume && resume.status === 'uploading') imp.cancelImport(resume.id).catch(() => {});
          resume = null;
          job = await imp.createImport({ entity, filename: file.name, size: file.size }, { signal: both });
        }
        state.job = job;
        updateUrl(jobUrl(job.id));
        await uploadChunks(job, file, both, (sent) => {
          bar.set(sent / file.size);
          text.textContent = `${formatBytes(sent)} of ${formatBytes(file.size)} uploaded`;
        });
        bar.set(1);
        text.textContent = 'Reading the file…';
        cancelBtn.disabled = true;
        const analysis = await imp.completeImport(job.id, { signal });
        if (state.destroyed) return;
        state.uploading = false;
        mapStep(analysis);
      } catch (err) {
        state.uploading = false;
        drop.classList.remove('is-busy');
        input.disabled = false;
        input.value = '';
        if (state.destroyed) return;
        if (err?.name === 'AbortError') {
          status.hidden = true;
          if (state.job) imp.cancelImport(state.job.id).catch(() => {});
          state.job = null;
          updateUrl(jobUrl(null));
          return;
        }
        status.hidden = true;
        showError(err);
      }
    }

    function showError(err) {
      error.hidden = false;
      mount(error, icon('alert'), h('div', null,
        h('strong', null, err.title || 'The upload failed'), ' ', h('span', null, err.detail || err.message || ''),
        err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null));
    }
  }

  /** Sends every chunk, three at a time; each is retried a few times. */
  async function uploadChunks(job, file, sig, onProgress) {
    const size = Number(job.chunk_size) || 512 * 1024;
    const count = Number(job.chunks) || Math.ceil(file.size / size);
    let next = 0;
    let sent = 0;
    onProgress(0);
    const worker = async () => {
      while (next < count) {
        const n = next;
        next += 1;
        const blob = file.slice(n * size, Math.min(file.size, (n + 1) * size), 'text/csv');
        await withRetry(() => imp.putChunk(job.id, n, blob, { signal: sig }), sig);
        sent += blob.size;
        onProgress(sent);
      }
    };
    await Promise.all(Array.from({ length: Math.min(3, count) }, worker));
  }

  /** Retries network trouble, rate limits and server errors (5 attempts in all). */
  async function withRetry(fn, sig, attempts = 5) {
    for (let i = 0; ; i += 1) {
      try {
        return await fn();
      } catch (err) {
        if (err?.name === 'AbortError') throw err;
        const retryable = err?.status === 0 || err?.status === 429 || err?.status >= 500;
        if (!retryable || i >= attempts - 1) throw err;
        await sleep(err.retryAfter != null ? err.retryAfter * 1000 : 400 * 2 ** i, sig);
      }
    }
  }

  async function loadRecent(card) {
    try {
      const jobs = await imp.listImports({ signal });
      if (state.destroyed || !card.isConnected) return;
      const head = card.querySelector('.card-head');
      if (!jobs.length) {
        mount(card, head, h('p', { class: 'muted', dataset: { testid: 'recent-imports-empty' } }, 'No imports yet. Files you import appear here, with their reports.'));
        return;
      }
      const rows = jobs.slice(0, 12).map((j) => {
        const path = `${ENTITIES[j.entity]?.path || cfg.path}/import?job=${encodeURIComponent(j.id)}`;
        const finished = imp.TERMINAL.has(j.status);
        const counts = [['created', 'new'], ['updated', 'updated'], ['unchanged', 'unchanged'], ['failed', 'failed']]
          .filter(([k]) => j[k] > 0).map(([k, w]) => `${num(j[k])} ${w}`).join(' · ');
        return h('tr', { dataset: { testid: 'recent-import', job: j.id } },
          h('td', { class: 'ri-file' },
            h('a', { href: path, class: 'row-link truncate', title: j.filename }, j.filename),
            h('div', { class: 'cell-sub muted' }, j.entity === 'company' ? 'Companies' : 'Contacts', ' · ', formatBytes(j.total_bytes))),
          h('td', { class: 'ri-status' }, statusBadge(j.status)),
          h('td', { class: 'ri-counts num' }, j.rows_done ? h('span', null, `${num(j.rows_done)} ${j.rows_done === 1 ? 'row' : 'rows'}`, h('div', { class: 'cell-sub muted truncate', title: counts }, counts || '—')) : h('span', { class: 'muted' }, '—')),
          h('td', { class: 'ri-when' }, h('time', { datetime: j.created_at, title: formatDate(j.created_at, { withTime: true }) }, timeAgo(j.created_at)),
            h('div', { class: 'cell-sub muted truncate' }, actorName(j.created_by))),
          h('td', { class: 'ri-action' }, h('a', { class: 'btn btn-sm', href: path }, finished ? 'Report' : 'Continue')));
      });
      mount(card, head,
        h('div', { class: 'table-wrap' },
          h('table', { class: 'data-table recent-table', dataset: { testid: 'recent-imports' } },
            h('caption', { class: 'visually-hidden' }, 'Recent imports'),
            h('thead', null, h('tr', null,
              h('th', { scope: 'col', class: 'ri-file' }, 'File'), h('th', { scope: 'col', class: 'ri-status' }, 'Status'),
              h('th', { scope: 'col', class: 'ri-counts' }, 'Rows'), h('th', { scope: 'col', class: 'ri-when' }, 'Started'),
              h('th', { scope: 'col', class: 'ri-action' }, h('span', { class: 'visually-hidden' }, 'Open')))),
            h('tbody', null, rows))));
    } catch (err) {
      if (err?.name === 'AbortError' || !card.isConnected) return;
      mount(card, card.querySelector('.card-head'), h('p', { class: 'muted' }, `Recent imports could not be loaded (${err.detail || err.message}).`));
    }
  }

  // -------------------------------------------------------------------------
  // 2. Map columns, preview

  function targetLabel(t) {
    if (t.startsWith('custom.')) {
      const d = state.defs.find((x) => `custom.${x.key}` === t);
      return d ? d.label || labelize(d.key) : labelize(t.slice(7));
    }
    if (t === 'name' && entity === 'company') return 'Name';
    if (t === 'phone' && entity === 'company') return 'Phone';
    return TARGET_LABELS[t] || labelize(t.replace('.', ' '));
  }

  function mapStep(analysis, { initialMapping, encoding } = {}) {
    setStep('map');
    state.analysis = analysis;
    const job = analysis.job || state.job;
    state.job = job;
    updateUrl(jobUrl(job.id));
    const headers = job.headers || [];
    const sample = Array.isArray(analysis.sample) ? analysis.sample : [];
    const targets = Array.isArray(analysis.targets) ? analysis.targets : [];
    const start = initialMapping || analysis.suggested || {};
    const detected = job.detected || {};
    const isCompany = entity === 'company';

    const selects = [];
    const rowErrors = [];
    const tbody = h('tbody');
    headers.forEach((header, i) => {
      const values = sample.map((r) => r[i]).filter((v) => v != null && String(v).trim() !== '').slice(0, 3);
      const chosen = start.columns?.[i] ?? '';
      const std = targets.filter((t) => !t.startsWith('custom.'));
      const custom = targets.filter((t) => t.startsWith('custom.'));
      const sel = h('select', {
        class: 'select-sm map-select', id: `map-${i}`, dataset: { testid: `map-column-${i}` },
        'aria-label': `Import column “${header}” as`,
        onchange: () => { markDuplicates(); stale(); },
      },
      h('option', { value: '' }, 'Don’t import'),
      h('optgroup', { label: 'Fields' }, std.map((t) => h('option', { value: t, selected: t === chosen }, targetLabel(t)))),
      custom.length ? h('optgroup', { label: 'Custom fields' }, custom.map((t) => h('option', { value: t, selected: t === chosen }, targetLabel(t)))) : null);
      sel.value = targets.includes(chosen) ? chosen : '';
      selects.push(sel);
      const err = h('p', { class: 'field-error', hidden: true, id: `map-${i}-error` });
      rowErrors.push(err);
      tbody.append(h('tr', { class: 'map-row', dataset: { index: String(i) } },
        h('td', { class: 'map-col' }, h('label', { for: `map-${i}`, class: 'map-header' }, header),
          h('div', { class: 'cell-sub muted map-col-sub' }, `Column ${i + 1}`),
          values.length ? h('div', { class: 'cell-sub muted map-sample-inline truncate', title: values.join(' · ') }, `e.g. ${values[0]}`) : null),
        h('td', { class: 'map-sample' }, values.length
          ? h('ul', { class: 'sample-list' }, values.map((v) => h('li', { class: 'truncate', title: String(v) }, String(v))))
          : h('span', { class: 'muted fst-italic' }, 'Empty in the first rows')),
        h('td', { class: 'map-target' }, sel, err)));
    });

    const encodingSel = h('select', { class: 'select-sm', id: 'import-encoding', dataset: { testid: 'import-encoding' }, onchange: stale },
      h('option', { value: 'utf8' }, 'UTF-8'), h('option', { value: 'latin1' }, 'Latin-1 (ISO 8859-1)'));
    encodingSel.value = encoding || detected.encoding || 'utf8';

    const matchSel = h('select', { class: 'select-sm', id: 'match-by', dataset: { testid: 'match-by' }, onchange: () => { syncOptions(); stale(); } },
      h('option', { value: 'email' }, isCompany ? 'Domain' : 'Email address'),
      h('option', { value: 'external_id' }, 'External ID'),
      h('option', { value: 'none' }, 'Don’t match: always create new records'));
    matchSel.value = start.match_by || 'email';
    const matchErr = h('p', { class: 'field-error', hidden: true });
    const update = h('input', { type: 'checkbox', id: 'import-update', checked: start.update_existing !== false, dataset: { testid: 'update-existing' }, onchange: stale });
    const updateRow = h('label', { class: 'check-row', for: 'import-update' }, update,
      h('span', null, `Update ${cfg.plural} that match`, h('span', { class: 'check-hint muted' }, ` (otherwise they are left as they are and counted as unchanged)`)));
    const createCos = isCompany ? null : h('input', { type: 'checkbox', id: 'import-create-companies', checked: !!start.create_companies, dataset: { testid: 'create-companies' }, onchange: stale });
    const createRow = createCos ? h('label', { class: 'check-row', for: 'import-create-companies' }, createCos,
      h('span', null, 'Create companies that don’t exist yet', h('span', { class: 'check-hint muted' }, ' (contacts are linked to companies by the name in the Company name column)'))) : null;

    function syncOptions() {
      update.disabled = matchSel.value === 'none';
      updateRow.classList.toggle('is-disabled', update.disabled);
      if (createCos) {
        const hasCompany = selects.some((s) => s.value === 'company');
        createCos.disabled = !hasCompany;
        createRow.classList.toggle('is-disabled', !hasCompany);
      }
    }
    selects.forEach((s) => s.addEventListener('change', syncOptions));

    function markDuplicates() {
      const seen = new Map();
      selects.forEach((s) => { if (s.value) seen.set(s.value, (seen.get(s.value) || 0) + 1); });
      selects.forEach((s, i) => {
        const dup = s.value && seen.get(s.value) > 1;
        setRowError(i, dup ? `${targetLabel(s.value)} is chosen for more than one column` : null);
      });
    }
    function setRowError(i, message) {
      const err = rowErrors[i];
      err.hidden = !message;
      mount(err, message ? [icon('alert', { size: 13 }), h('span', null, message)] : []);
      if (message) { selects[i].setAttribute('aria-invalid', 'true'); selects[i].setAttribute('aria-describedby', err.id); } else { selects[i].removeAttribute('aria-invalid'); selects[i].removeAttribute('aria-describedby'); }
    }

    const formError = h('div', { class: 'inline-error', role: 'alert', hidden: true, dataset: { testid: 'mapping-error' } });
    const continueBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'import-continue' } }, 'Continue');
    const previewSlot = h('div', { class: 'preview-slot' });
    let previewFresh = false;

    function stale() {
      if (!previewFresh) return;
      previewFresh = false;
      mount(previewSlot, h('p', { class: 'import-note muted', dataset: { testid: 'preview-stale' } }, icon('alert', { size: 15 }), h('span', null, 'The mapping changed. Continue again to check the first rows before importing.')));
      continueBtn.hidden = false;
    }

    const form = h('form', { class: 'import-map', novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(); } },
      h('section', { class: 'card import-card', 'aria-labelledby': 'map-title' },
        h('div', { class: 'card-head' },
          h('h2', { id: 'map-title', class: 'card-title' }, 'Map columns'),
          h('span', { class: 'muted import-file-name truncate', title: job.filename }, job.filename, ' · ', formatBytes(job.total_bytes))),
        analysis.remembered ? h('p', { class: 'import-note is-info', dataset: { testid: 'mapping-remembered' } }, icon('check', { size: 15 }),
          h('span', null, 'This mapping is the one you used last time for a file with these columns.')) : null,
        h('div', { class: 'import-format' },
          h('div', { class: 'format-item' }, h('label', { for: 'import-encoding', class: 'format-label' }, 'Encoding'), encodingSel,
            detected.encoding ? h('span', { class: 'muted format-hint' }, `detected ${detected.encoding === 'latin1' ? 'Latin-1' : 'UTF-8'}`) : null),
          h('div', { class: 'format-item' }, h('span', { class: 'format-label' }, 'Delimiter'), h('span', { dataset: { testid: 'import-delimiter' } }, delimiterLabel(detected.delimiter))),
          h('div', { class: 'format-item' }, h('span', { class: 'format-label' }, 'Columns'), h('span', null, num(headers.length)))),
        h('p', { class: 'muted import-sample-note' }, 'Sample values come from the first rows, read with the detected encoding. Choose Latin-1 if accented letters look wrong; the preview shows the result.'),
        h('div', { class: 'table-wrap map-wrap' },
          h('table', { class: 'data-table map-table', dataset: { testid: 'import-mapping' } },
            h('caption', { class: 'visually-hidden' }, 'Columns of the file and the fields they import into'),
            h('thead', null, h('tr', null,
              h('th', { scope: 'col', class: 'map-col' }, 'Column in the file'),
              h('th', { scope: 'col', class: 'map-sample' }, 'Sample values'),
              h('th', { scope: 'col', class: 'map-target' }, 'Import as'))),
            tbody))),
      h('section', { class: 'card import-card', 'aria-labelledby': 'match-title' },
        h('h2', { id: 'match-title', class: 'card-title' }, 'Existing records'),
        h('div', { class: 'match-grid' },
          h('label', { for: 'match-by', class: 'format-label' }, `Match rows to existing ${cfg.plural} by`),
          h('div', null, matchSel, matchErr)),
        h('div', { class: 'import-checks' }, updateRow, createRow),
        formError,
        h('div', { class: 'import-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => chooseAnother() }, 'Choose another file'),
          continueBtn)),
      previewSlot);

    mount(body, form);
    markDuplicates();
    syncOptions();

    function mapping() {
      return {
        columns: selects.map((s) => s.value || null),
        match_by: matchSel.value,
        update_existing: update.checked,
        create_companies: createCos ? createCos.checked && !createCos.disabled : false,
        encoding: encodingSel.value,
      };
    }

    async function submit() {
      formError.hidden = true;
      matchErr.hidden = true;
      rowErrors.forEach((_, i) => setRowError(i, null));
      markDuplicates();
      continueBtn.disabled = true;
      continueBtn.textContent = 'Checking…';
      try {
        const { job: saved, preview } = await imp.setMapping(state.job.id, mapping(), { signal });
        if (saved) state.job = saved;
        previewFresh = true;
        continueBtn.hidden = true;
        renderPreview(previewSlot, preview, sample, selects.map((s) => s.value || null), headers);
        previewSlot.querySelector('h2')?.scrollIntoView({ block: 'start', behavior: 'smooth' });
      } catch (err) {
        if (err?.name === 'AbortError' || state.destroyed) return;
        if (err.isValidation) {
          const rest = [];
          for (const e of err.errors) {
            const m = /^columns\.(\d+)$/.exec(e.field || '');
            if (m && rowErrors[Number(m[1])]) {
              // Keep the message already shown for a column chosen twice.
              if (rowErrors[Number(m[1])].hidden) setRowError(Number(m[1]), capital(e.message.replace(/`([^`]+)`/g, (_, t) => targetLabel(t))));
            }
            else if (e.field === 'match_by') { matchErr.hidden = false; mount(matchErr, icon('alert', { size: 13 }), h('span', null, capital(e.message))); }
            else rest.push(e.field && e.field !== 'columns' ? `${e.field}: ${e.message}` : capital(e.message));
          }
          if (rest.length || !err.errors.length) {
            formError.hidden = false;
            mount(formError, icon('alert'), h('div', null, h('strong', null, 'Check the mapping'), ' ', rest.join('. ') || err.detail));
          }
          (form.querySelector('[aria-invalid="true"]') || (matchErr.hidden ? formError : matchSel)).focus?.();
        } else if (err.status === 409) {
          // Someone (another tab) started it: follow the job.
          resumeJob(state.job.id);
        } else {
          formError.hidden = false;
          mount(formError, icon('alert'), h('div', null, h('strong', null, err.title || 'Could not save the mapping'), ' ', err.detail || err.message,
            err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null));
        }
      } finally {
        continueBtn.disabled = false;
        continueBtn.textContent = 'Continue';
      }
    }
  }

  function capital(s) { const t = String(s || ''); return t ? t[0].toUpperCase() + t.slice(1) : t; }

  function chooseAnother() {
    const old = state.job;
    state.job = null;
    updateUrl(jobUrl(null));
    if (old && !imp.TERMINAL.has(old.status)) imp.cancelImport(old.id).catch(() => {});
    uploadStep();
  }

  function renderPreview(slot, preview, sample, columns, headers) {
    const mapped = columns.map((t, i) => [t, i]).filter(([t]) => t);
    const bad = preview.filter((r) => r.errors?.length);
    const ok = preview.length - bad.length;
    const headRow = h('tr', null,
      h('th', { scope: 'col', class: 'pv-row' }, 'Row'),
      h('th', { scope: 'col', class: 'pv-status' }, 'Check'),
      mapped.map(([t]) => h('th', { scope: 'col', class: 'pv-val' }, targetLabel(t).replace(/ \(.*\)$/, ''))));
    // The sample is the file's first rows: row 2 (after the header) is sample[0].
    const valuesOf = (r) => sample[r.row - 2 - (state.job?.rows_done || 0)] || null;
    // Rows with their values, and the rows past the sample that have problems.
    const listed = preview.filter((r) => valuesOf(r) || r.errors?.length);
    const quiet = preview.length - listed.length;
    const rows = listed.map((r) => {
      const values = valuesOf(r);
      const problems = r.errors || [];
      return h('tr', { class: ['pv-tr', problems.length && 'is-problem'], dataset: { testid: 'preview-row', row: String(r.row), problem: problems.length ? 'true' : null } },
        h('th', { scope: 'row', class: 'pv-row num' }, String(r.row)),
        h('td', { class: 'pv-status' }, problems.length
          ? h('ul', { class: 'pv-problems' }, problems.map((e) => h('li', null, icon('alert', { size: 13 }), h('span', null, e.field ? h('strong', null, `${columnLabel(e.field, headers)}: `) : null, capital(e.message)))))
          : h('span', { class: 'pv-ok' }, icon('check', { size: 14 }), 'OK')),
        values
          ? mapped.map(([, i]) => {
            const v = values[i];
            return h('td', { class: 'pv-val' }, v != null && String(v) !== '' ? h('span', { class: 'truncate', title: String(v) }, String(v)) : h('span', { class: 'muted' }, '—'));
          })
          : (mapped.length ? h('td', { class: 'pv-val muted fst-italic', colspan: mapped.length }, 'Not in the sample') : null));
    });
    const startBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'import-start' }, onclick: () => runStep({ autostart: true }) },
      `Start import`);
    mount(slot,
      h('section', { class: 'card import-card', 'aria-labelledby': 'preview-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'preview-title', class: 'card-title', tabindex: '-1' }, 'Preview')),
        h('p', { class: 'preview-summary', role: 'status', dataset: { testid: 'preview-summary' } },
          preview.length
            ? `The first ${num(preview.length)} ${preview.length === 1 ? 'row was' : 'rows were'} checked: ${num(ok)} ${ok === 1 ? 'is' : 'are'} ready${bad.length ? `, ${num(bad.length)} ${bad.length === 1 ? 'has' : 'have'} problems` : ''}.`
            : 'The file has no rows after the header.',
          bad.length ? ' Rows with problems are skipped and listed in the report; every other row imports.' : ''),
        preview.length ? h('div', { class: 'table-wrap preview-wrap' },
          h('table', { class: 'data-table preview-table', dataset: { testid: 'import-preview' } },
            h('caption', { class: 'visually-hidden' }, 'Preview of the first rows'),
            h('thead', null, headRow), h('tbody', null, rows,
              quiet ? h('tr', { class: 'pv-more' }, h('td', { colspan: mapped.length + 2, class: 'muted' },
                `${num(quiet)} more ${quiet === 1 ? 'row was' : 'rows were'} checked without problems.`)) : null))) : null,
        h('div', { class: 'import-actions' },
          h('span', { class: 'muted import-total' }, `${formatBytes(state.job?.total_bytes)} to import`),
          startBtn)));
  }

  function columnLabel(field, headers) {
    // Problems name the file's column; fall back to the field's label.
    if (headers.includes(field)) return field;
    return targetLabel(field);
  }

  // -------------------------------------------------------------------------
  // 3. Run

  function runStep({ autostart = false } = {}) {
    setStep('run');
    const job = state.job;
    updateUrl(jobUrl(job.id));
    const bar = progressBar({ testid: 'import-progress', label: `Importing ${job.filename}` });
    const pct = h('span', { class: 'run-pct num', dataset: { testid: 'import-percent' } }, '0%');
    const line = h('p', { class: 'run-line muted', 'aria-live': 'polite', dataset: { testid: 'import-rows' } }, 'Starting…');
    const counter = (key, label) => h('div', { class: ['stat', `stat-${key}`] },
      h('span', { class: 'stat-value num', dataset: { testid: `import-${key}` } }, '0'), h('span', { class: 'stat-label' }, label));
    const stats = h('div', { class: 'stats' },
      counter('created', 'Created'), counter('updated', 'Updated'), counter('unchanged', 'Unchanged'), counter('failed', 'Failed'));
    const error = h('div', { class: 'inline-error', role: 'alert', hidden: true });
    const pauseBtn = h('button', { type: 'button', class: 'btn', dataset: { testid: 'import-pause' }, onclick: () => togglePause() }, 'Pause');
    const cancelBtn = h('button', { type: 'button', class: 'btn btn-danger-quiet', dataset: { testid: 'import-cancel' }, onclick: () => askCancel() }, 'Cancel import');
    const startBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'import-start' }, hidden: true, onclick: () => { startBtn.hidden = true; go(); } }, 'Start import');

    mount(body,
      h('section', { class: 'card import-card run-card', 'aria-labelledby': 'run-title' },
        h('div', { class: 'card-head' },
          h('h2', { id: 'run-title', class: 'card-title', tabindex: '-1' }, 'Importing ', h('span', { class: 'truncate run-file', title: job.filename }, job.filename)),
          pct),
        bar.el, line, stats, error,
        h('p', { class: 'muted run-note' }, 'The import runs while this page is open. If you leave it, the import pauses; open it again from Recent imports to continue where it stopped. No row is imported twice.'),
        h('div', { class: 'import-actions' }, cancelBtn, h('span', { class: 'spacer' }), pauseBtn, startBtn)));

    const samples = [];
    function show(j) {
      const p = Math.max(0, Math.min(1, Number(j.progress) || 0));
      const now = performance.now();
      samples.push([now, Number(j.position) || 0]);
      while (samples.length > 2 && now - samples[0][0] > 30_000) samples.shift();
      let eta = '';
      if (samples.length >= 3 && j.status === 'running') {
        const [t0, p0] = samples[0];
        const [t1, p1] = samples[samples.length - 1];
        const rate = (p1 - p0) / ((t1 - t0) / 1000);
        if (rate > 0 && t1 - t0 > 1500) eta = `${formatEta((j.total_bytes - p1) / rate)} left`;
      }
      const text = `${Math.floor(p * 100)}% · ${num(j.rows_done)} rows`;
      bar.set(p, text);
      pct.textContent = `${Math.floor(p * 100)}%`;
      line.textContent = j.status === 'indexing'
        // A big import loads without some indexes and builds them at the end.
        ? [`All ${num(j.rows_done)} rows are in`, `building indexes for fast lists (${num(j.indexes_left)} left)`, state.paused ? 'paused' : ''].filter(Boolean).join(' · ')
        : [`${num(j.rows_done)} ${j.rows_done === 1 ? 'row' : 'rows'} done`, `${formatBytes(j.position)} of ${formatBytes(j.total_bytes)}`, state.paused ? 'paused' : eta].filter(Boolean).join(' · ');
      for (const k of ['created', 'updated', 'unchanged', 'failed']) {
        const el = stats.querySelector(`[data-testid="import-${k}"]`);
        if (el) el.textContent = num(j[k]);
      }
      stats.querySelector('.stat-failed')?.classList.toggle('has-failed', j.failed > 0);
      // Every row is in: nothing is left to cancel.
      cancelBtn.hidden = j.status === 'indexing';
    }
    show(job);

    function togglePause() {
      if (state.paused) {
        state.paused = false;
        pauseBtn.textContent = 'Pause';
        go();
      } else {
        state.paused = true;
        pauseBtn.textContent = 'Resume';
        show(state.job);
      }
    }

    function askCancel() {
      confirmDialog({
        title: 'Cancel this import?',
        text: `Rows imported so far stay (${num(state.job.rows_done)} rows). The rest of ${state.job.filename} is not imported, and the uploaded file is removed.`,
        confirmLabel: 'Cancel import',
        workingLabel: 'Cancelling…',
        testid: 'import-cancel-confirm',
        run: async () => {
          state.paused = true;
          await state.loop?.catch(() => {});
          const j = await imp.cancelImport(state.job.id);
          state.job = j || { ...state.job, status: 'cancelled' };
          if (!state.destroyed) doneStep(state.job);
        },
      });
    }

    async function go() {
      if (state.loop) return;
      state.paused = false;
      error.hidden = true;
      state.loop = loop().finally(() => { state.loop = null; });
    }

    async function loop() {
      let failures = 0;
      while (!state.destroyed && !state.paused) {
        try {
          const j = await imp.runImport(state.job.id, { signal });
          failures = 0;
          if (!j) continue;
          state.job = j;
          if (state.destroyed) return;
          show(j);
          if (imp.TERMINAL.has(j.status)) { doneStep(j); return; }
        } catch (err) {
          if (err?.name === 'AbortError' || state.destroyed) return;
          if (err.status === 409) {
            try {
              const j = await imp.getImport(state.job.id, { signal });
              state.job = j;
              if (imp.TERMINAL.has(j.status)) { doneStep(j); return; }
              if (j.status === 'mapping' || j.status === 'ready') { resumeJob(j.id); return; }
            } catch { /* fall through to the retry below */ }
          }
          const retryable = err.status === 0 || err.status === 429 || err.status >= 500 || err.status === 409;
          failures += 1;
          if (!retryable || failures > 5) {
            error.hidden = false;
            mount(error, icon('alert'), h('div', null, h('strong', null, err.title || 'The import stopped'), ' ', err.detail || err.message,
              err.requestId ? h('span', { class: 'muted' }, ` (request ${err.requestId})`) : null),
            h('button', { type: 'button', class: 'btn btn-sm', onclick: () => go() }, 'Retry'));
            return;
          }
          try { await sleep(err.retryAfter != null ? err.retryAfter * 1000 : 500 * 2 ** failures, signal); } catch { return; }
        }
      }
    }

    if (autostart || imp.ACTIVE.has(state.job.status)) go();
    else { startBtn.hidden = false; pauseBtn.hidden = true; line.textContent = 'Ready to import.'; }
    body.querySelector('#run-title')?.focus({ preventScroll: true });
  }

  // -------------------------------------------------------------------------
  // 4. Done

  function doneStep(job) {
    setStep('done');
    state.job = job;
    updateUrl(jobUrl(job.id));
    const ok = job.status === 'done';
    const title = ok ? 'Import finished' : job.status === 'cancelled' ? 'Import cancelled' : 'Import stopped';
    const tile = (key, label, value) => h('div', { class: ['stat', `stat-${key}`, key === 'failed' && value > 0 && 'has-failed'] },
      h('span', { class: 'stat-value num', dataset: { testid: `summary-${key}` } }, num(value)), h('span', { class: 'stat-label' }, label));
    const errorsBody = h('div', { class: 'import-errors-body' }, h('p', { class: 'muted' }, 'Loading the report…'));
    mount(body,
      h('section', { class: ['card', 'import-card', 'summary-card', `is-${job.status}`], dataset: { testid: 'import-summary', status: job.status }, 'aria-labelledby': 'summary-title' },
        h('div', { class: 'summary-head' },
          h('span', { class: 'summary-icon', 'aria-hidden': 'true' }, icon(ok ? 'check' : 'alert', { size: 20 })),
          h('div', null,
            h('h2', { id: 'summary-title', class: 'card-title', tabindex: '-1' }, title),
            h('p', { class: 'muted' }, job.filename, ' · ', `${num(job.rows_done)} ${job.rows_done === 1 ? 'row' : 'rows'} read`,
              job.finished_at ? [' · ', timeEl(job.finished_at, { withTime: true })] : null))),
        job.message ? h('p', { class: 'import-note', dataset: { testid: 'import-message' } }, icon('alert', { size: 15 }), h('span', null, job.message)) : null,
        h('div', { class: 'stats' },
          tile('created', 'Created', job.created), tile('updated', 'Updated', job.updated),
          tile('unchanged', 'Unchanged', job.unchanged), tile('failed', 'Failed', job.failed)),
        h('div', { class: 'import-actions' },
          h('a', { class: 'btn', href: jobUrl(null), dataset: { testid: 'import-another' } }, 'Import another file'),
          h('span', { class: 'spacer' }),
          h('a', { class: 'btn btn-primary', href: cfg.path, dataset: { testid: 'import-view-list' } }, `View ${cfg.plural}`))),
      h('section', { class: 'card import-card', 'aria-labelledby': 'report-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'report-title', class: 'card-title' }, 'Rows that were skipped')),
        errorsBody));
    body.querySelector('#summary-title')?.focus({ preventScroll: true });
    loadErrors(job, errorsBody);
  }

  async function loadErrors(job, slot) {
    const tbody = h('tbody');
    const more = h('button', { type: 'button', class: 'btn btn-sm', hidden: true, dataset: { testid: 'import-errors-more' } }, 'Show more');
    const note = h('p', { class: 'muted report-note' });
    let cursor;
    let shown = 0;
    let first = true;
    async function page() {
      more.disabled = true;
      try {
        const p = await imp.importErrors(job.id, { after: cursor, limit: 200, signal });
        if (state.destroyed) return;
        for (const r of p.items) {
          (r.errors?.length ? r.errors : [{ field: '', message: 'was skipped' }]).forEach((e, i) => {
            shown += 1;
            tbody.append(h('tr', { dataset: { testid: 'import-error-row', row: String(r.row) } },
              h('td', { class: 'er-row num' }, i === 0 ? String(r.row) : ''),
              h('td', { class: 'er-col' }, e.field ? h('span', { class: 'truncate', title: e.field }, e.field) : h('span', { class: 'muted' }, '—')),
              h('td', { class: 'er-msg' }, capital(e.message))));
          });
        }
        cursor = p.next_cursor;
        more.hidden = !cursor;
        if (first) {
          first = false;
          if (!p.items.length) {
            mount(slot, h('p', { class: 'import-note is-ok', dataset: { testid: 'import-no-errors' } }, icon('check', { size: 15 }),
              h('span', null, job.status === 'done' ? 'No problems: every row was imported.' : 'No rows were skipped.')));
            return;
          }
          mount(slot,
            h('p', { class: 'muted' }, 'These rows were not imported. Fix them in the file and import it again: rows that match existing records by email or external ID update them instead of creating copies.'),
            h('div', { class: 'table-wrap' },
              h('table', { class: 'data-table errors-table', dataset: { testid: 'import-errors' } },
                h('caption', { class: 'visually-hidden' }, 'Rows that were skipped'),
                h('thead', null, h('tr', null,
                  h('th', { scope: 'col', class: 'er-row' }, 'Row'), h('th', { scope: 'col', class: 'er-col' }, 'Column'), h('th', { scope: 'col', class: 'er-msg' }, 'Problem'))),
                tbody)),
            h('div', { class: 'card-foot' }, more), note);
        }
        note.textContent = job.failed > 10_000 && !cursor ? 'The report keeps the first 10,000 problems.' : '';
      } catch (err) {
        if (err?.name === 'AbortError' || state.destroyed) return;
        if (first) mount(slot, h('p', { class: 'muted' }, `The report could not be loaded (${err.detail || err.message}).`));
        else toastError(err, 'Could not load more of the report');
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', page);
    await page();
  }

  // -------------------------------------------------------------------------
  // Start / resume

  async function resumeJob(id) {
    mount(body, h('div', { class: 'card import-card' }, h('p', { class: 'muted' }, 'Loading the import…')));
    try {
      const job = await imp.getImport(id, { signal });
      if (state.destroyed) return;
      if (job.entity && job.entity !== entity && ENTITIES[job.entity]) {
        navigate(`${ENTITIES[job.entity].path}/import?job=${encodeURIComponent(id)}`, { replace: true });
        return;
      }
      state.job = job;
      if (job.status === 'uploading') { uploadStep({ resume: job }); return; }
      if (job.status === 'mapping' || job.status === 'ready') {
        const encoding = job.detected?.encoding;
        const analysis = await imp.completeImport(id, { signal });
        if (state.destroyed) return;
        mapStep(analysis, { initialMapping: job.mapping || undefined, encoding });
        return;
      }
      if (imp.ACTIVE.has(job.status)) { runStep({ autostart: true }); return; }
      doneStep(job);
    } catch (err) {
      if (err?.name === 'AbortError' || state.destroyed) return;
      setStep('upload');
      mount(body, emptyState({
        testid: err.isNotFound ? 'not-found' : 'error-state', iconName: 'alert',
        title: err.isNotFound ? 'Import not found' : err.title || 'Could not load the import',
        text: err.isNotFound ? 'It may be from another workspace, or the link is wrong.' : `${err.detail || err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`,
        actions: [h('a', { class: 'btn btn-primary', href: jobUrl(null) }, 'Start a new import')],
      }));
    }
  }

  async function init() {
    renderStepper();
    const st = await session.whenLoaded();
    if (state.destroyed) return;
    if (st.status === 'signed-in' && !canWrite()) {
      mount(body, emptyState({
        testid: 'import-not-allowed', iconName: 'lock', title: 'Your role cannot import',
        text: `Importing creates and changes ${cfg.plural}. Ask someone with write access to contacts to import the file.`,
        actions: [h('a', { class: 'btn', href: cfg.path }, `Back to ${cfg.plural}`)],
      }));
      return;
    }
    // Custom fields label the mapping's targets.
    state.defs = await crm.customFields(entity).catch(() => []);
    if (state.destroyed) return;
    const id = query.get('job');
    if (id) resumeJob(id);
    else uploadStep();
  }
  init();

  return {
    kind: `${entity}-import`,
    destroy() {
      state.destroyed = true;
      controller.abort();
    },
  };
}

/** Aborts when any of the signals does. */
function anySignal(signals) {
  if (AbortSignal.any) return AbortSignal.any(signals);
  const c = new AbortController();
  signals.forEach((s) => s.addEventListener('abort', () => c.abort(), { once: true }));
  return c.signal;
}

