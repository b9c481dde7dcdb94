// The ikd dashboard: the run's history from the first server-sent event, then every change.
// Rows are [step, course loss, exam loss, exam accuracy, teacher loss, soft-target entropy, distillation KL, teacher drift KL,
// teacher accuracy on the exam batch, 1 if a record of that step failed the check against the run's keys].
(function () {
  'use strict';

  const METRICS = { course: 1, exam: 2, accuracy: 3, teacher: 4, entropy: 5, distill: 6, drift: 7, teacherAccuracy: 8 };
  const COLORS = ['#3658c8', '#d9480f', '#2b8a3e', '#ae3ec9', '#f08c00', '#0c8599', '#c2255c', '#5c940d',
    '#1864ab', '#e8590c', '#087f5b', '#862e9c', '#e67700', '#0b7285', '#a61e4d', '#495057'];

  const state = {
    version: 0, run: null, students: {}, rows: {}, buckets: new Map(), deadLetters: [], alerts: [],
    serverOffsetMs: 0, charts: {}, updates: 0
  };

  const $ = (id) => document.getElementById(id);
  const fmt = (v, digits) => (v === null || v === undefined) ? '–' : Number(v).toFixed(digits);
  const ago = (s) => s === null || s === undefined ? '–' : s < 120 ? s.toFixed(1) + ' s ago'
    : s < 7200 ? (s / 60).toFixed(0) + ' min ago' : s < 172800 ? (s / 3600).toFixed(0) + ' h ago' : (s / 86400).toFixed(0) + ' days ago';

  function text(el, value) {
    if (el.textContent !== value) {
      el.textContent = value;
    }
  }

  function merge(view) {
    if (view.full) {
      state.rows = {};
      state.buckets = new Map();
    }
    state.version = view.version;
    state.run = view.run;
    state.serverOffsetMs = view.now_ms - Date.now();
    let changed = view.full || view.ops.buckets.length > 0;
    for (const [id, s] of Object.entries(view.students)) {
      const rows = state.rows[id] || (state.rows[id] = new Map());
      for (const r of s.rows) {
        rows.set(r[0], r);
      }
      changed = changed || s.rows.length > 0;
      state.students[id] = s;
    }
    for (const b of view.ops.buckets) {
      state.buckets.set(b.t, b);
    }
    state.teachers = view.teachers || {};
    state.deadLetters = view.dead_letters;
    state.alerts = view.alerts;
    state.updates++;
    render(changed);
    if (view.full && state.report && view.run.students > 0) {
      // Asked to (?report): how long from navigation to a whole run on screen.
      state.report = false;
      let points = 0;
      Object.keys(state.rows).forEach((id) => { points += window.ikd.points(id); });
      fetch('/api/page-timing', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ run: view.run.id, rendered_ms: performance.now(), points }) });
    }
  }

  /** The header, tables and alerts every time (ages move on); the charts only when a point changed. */
  function render(changed) {
    const run = state.run;
    text($('run-id'), run.id);
    const status = $('run-status');
    text(status, run.status);
    status.className = 'badge ' + run.status;
    text($('run-dataset'), run.dataset || '–');
    text($('run-mode'), run.teacher_mode || '–');
    text($('run-students'), String(run.students));
    text($('run-steps'), String(run.steps));
    text($('run-elapsed'), fmt(run.elapsed_s, 1) + ' s');
    text($('run-rate'), fmt(run.steps_per_s, 1));
    text($('run-reason'), run.reason ? (run.status === 'complete' ? '' : run.reason) : '');
    const options = $('run-options').querySelector('tbody');
    if (options.childElementCount !== Object.keys(run.options).length) {
      options.replaceChildren(...Object.entries(run.options).map(([k, v]) => row([k, String(v)])));
    }
    renderStudents();
    renderTeachers();
    renderAlerts();
    renderDeadLetters();
    if (changed) {
      renderCharts();
    }
  }

  function row(cells, cls) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.appendChild(td);
    }
    if (cls) {
      tr.className = cls;
    }
    return tr;
  }

  function points(id) {
    let n = 0;
    for (const r of (state.rows[id] || new Map()).values()) {
      if (r[METRICS.course] !== null) {
        n++;
      }
    }
    return n;
  }

  function renderStudents() {
    const body = $('students').querySelector('tbody');
    for (const id of Object.keys(state.students).sort(byIndex)) {
      const s = state.students[id];
      let tr = body.querySelector(`tr[data-student="${id}"]`);
      if (!tr) {
        tr = row([id, '', '', '', '', '', '', '']);
        tr.dataset.student = id;
        ['step', 'waiting', 'age', 'exam-accuracy', 'test-accuracy', 'lm perplexity', 'lm bytes-per-token']
          .forEach((c, i) => tr.children[i + 1].className = c);
        body.appendChild(tr);
      }
      const rows = state.rows[id];
      let lastAcc = null;
      if (rows) {
        for (const r of rows.values()) {
          if (r[METRICS.accuracy] !== null) {
            lastAcc = r[METRICS.accuracy];
          }
        }
      }
      tr.dataset.points = String(points(id));
      tr.dataset.step = String(s.step);
      text(tr.children[1], String(s.step));
      text(tr.children[2], s.waiting);
      text(tr.children[3], ago(s.age_s));
      text(tr.children[4], fmt(lastAcc, 3));
      text(tr.children[5], s.test_accuracy === null || s.test_accuracy === undefined ? '–' : fmt(s.test_accuracy, 4));
      // A language model's: the perplexity of its last exam (its test perplexity once it reports), and soft-target bytes a token.
      const lm = s.soft_target_bytes_per_token !== undefined;
      const perplexity = s.test_perplexity !== null && s.test_perplexity !== undefined ? s.test_perplexity : s.perplexity;
      text(tr.children[6], lm ? fmt(perplexity, 2) : '');
      text(tr.children[7], lm ? fmt(s.soft_target_bytes_per_token, 1) : '');
    }
    const anyLm = Object.values(state.students).some((s) => s.soft_target_bytes_per_token !== undefined);
    $('students').querySelectorAll('.lm').forEach((cell) => { cell.hidden = !anyLm; });
  }

  /**
   * With several teachers: each one's mean weight over the students, its loss, how many steps learned
   * from it, and how many went ahead without it (the last one named).
   */
  function renderTeachers() {
    const ids = Object.keys(state.teachers || {}).sort();
    $('teachers-section').hidden = ids.length === 0;
    $('teachers').querySelector('tbody').replaceChildren(...ids.map((id) => {
      const t = state.teachers[id];
      const tr = row([id, fmt(t.weight, 3), fmt(t.loss, 4), String(t.steps_used),
        t.steps_without ? t.steps_without + ' (last: ' + t.last_without + ')' : '0']);
      tr.dataset.teacher = id;
      return tr;
    }));
  }

  function byIndex(a, b) {
    const na = parseInt(a.replace(/\D+/g, ''), 10);
    const nb = parseInt(b.replace(/\D+/g, ''), 10);
    return (isNaN(na) || isNaN(nb) || na === nb) ? a.localeCompare(b) : na - nb;
  }

  function renderAlerts() {
    const list = $('alerts');
    const items = state.alerts.map((a) => {
      const li = document.createElement('li');
      li.className = a.kind;
      li.textContent = a.text;
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'none';
      items.push(li);
    }
    const key = JSON.stringify(state.alerts);
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.replaceChildren(...items);
    }
  }

  function renderDeadLetters() {
    const body = $('dead-letters').querySelector('tbody');
    const key = JSON.stringify(state.deadLetters);
    if (body.dataset.key === key) {
      return;
    }
    body.dataset.key = key;
    const rows = state.deadLetters.slice().reverse().map((d) => {
      const tr = row([new Date(d.time_ms).toLocaleTimeString(), d.service, `${d.topic}[${d.partition}]@${d.offset}`,
        d.student || '–', d.reason]);
      tr.className = 'dead-letter';
      return tr;
    });
    body.replaceChildren(...(rows.length ? rows : [row(['none'], 'none')]));
  }

  /** x: every step any student has; one series per student, null where it has no value. */
  function perStudent(metric) {
    const ids = Object.keys(state.rows).sort(byIndex);
    const steps = new Set();
    for (const id of ids) {
      for (const [k, r] of state.rows[id]) {
        if (r[metric] !== null) {
          steps.add(k);
        }
      }
    }
    const x = Array.from(steps).sort((a, b) => a - b);
    const data = [x];
    for (const id of ids) {
      const rows = state.rows[id];
      data.push(x.map((k) => {
        const r = rows.get(k);
        return r ? r[metric] : null;
      }));
    }
    return { names: ids, data };
  }

  function opsSeries() {
    const t = Array.from(state.buckets.keys()).sort((a, b) => a - b);
    const topics = new Set();
    for (const b of state.buckets.values()) {
      Object.keys(b.hops).forEach((k) => topics.add(k));
    }
    const names = Array.from(topics).sort();
    const x = t.map((ms) => ms / 1000);
    const hop = (i) => [x, ...names.map((n) => t.map((ms) => {
      const h = state.buckets.get(ms).hops[n];
      return h ? h[i] : null;
    }))];
    return {
      teacher: { names: ['busy (cores)', 'cache hit rate'], data: [x, t.map((ms) => state.buckets.get(ms).busy),
        t.map((ms) => state.buckets.get(ms).cache)] },
      p50: { names, data: hop(0) },
      p99: { names, data: hop(1) }
    };
  }

  function chart(id, series, time) {
    const el = $(id);
    const key = series.names.join('|');
    let c = state.charts[id];
    if (!c || c.key !== key) {
      if (c) {
        c.plot.destroy();
      }
      const opts = {
        width: Math.max(300, el.clientWidth || 440), height: 220,
        scales: { x: { time: !!time } },
        axes: [{ label: time ? '' : 'step' }, {}],
        series: [{ label: time ? 'time' : 'step' }, ...series.names.map((n, i) => ({
          label: n, stroke: COLORS[i % COLORS.length], width: 1.2, spanGaps: true, points: { show: false }
        }))],
        legend: { live: false }
      };
      c = state.charts[id] = { key, plot: new uPlot(opts, series.data, el) };
    } else {
      c.plot.setData(series.data);
    }
    el.dataset.points = String(series.data[0].length);
  }

  function renderCharts() {
    chart('chart-course', perStudent(METRICS.course));
    chart('chart-exam', perStudent(METRICS.exam));
    chart('chart-accuracy', perStudent(METRICS.accuracy));
    chart('chart-teacher', perStudent(METRICS.teacher));
    chart('chart-entropy', perStudent(METRICS.entropy));
    chart('chart-distill', perStudent(METRICS.distill));
    chart('chart-drift', perStudent(METRICS.drift));
    chart('chart-teacher-accuracy', perStudent(METRICS.teacherAccuracy));
    const ops = opsSeries();
    chart('chart-teacher-ops', ops.teacher, true);
    chart('chart-hop-p50', ops.p50, true);
    chart('chart-hop-p99', ops.p99, true);
  }

  function follow(run) {
    $('run').hidden = false;
    const events = new EventSource('/api/runs/' + encodeURIComponent(run) + '/events');
    events.addEventListener('run', (e) => merge(JSON.parse(e.data)));
    events.addEventListener('missing', (e) => {
      text($('run-id'), run);
      text($('run-status'), 'not in the log (yet)');
    });
  }

  function listRuns() {
    $('runs').hidden = false;
    text($('run-id'), '');
    $('run-summary').hidden = true;
    $('run-options').hidden = true;
    fetch('/api/runs').then((r) => r.json()).then((body) => {
      const rows = body.runs.map((r) => {
        const tr = row(['', r.status, r.dataset, r.teacher_mode, String(r.students), String(r.steps),
          r.first_ms ? new Date(r.first_ms).toLocaleString() : '–']);
        const a = document.createElement('a');
        a.href = '/?run=' + encodeURIComponent(r.id);
        a.textContent = r.id;
        tr.children[0].appendChild(a);
        tr.className = 'run';
        return tr;
      });
      $('runs').querySelector('tbody').replaceChildren(...(rows.length ? rows : [row(['no runs in the log yet'], 'none')]));
    });
  }

  window.ikd = {
    state,
    points,
    updates: () => state.updates
  };

  const params = new URLSearchParams(location.search);
  state.report = params.has('report');
  if (params.get('run')) {
    follow(params.get('run'));
  } else {
    listRuns();
  }
})();
