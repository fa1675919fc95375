/* faceterm kiosk page: follows the views the device pushes over /events (Server-Sent Events). */
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('kiosk-config').textContent);
  const T = cfg.texts;
  const $ = (id) => document.getElementById(id);
  const SCREENS = ['screen-main', 'screen-consent', 'screen-result', 'screen-worker',
    'screen-flash'];
  const STATE_ICONS = {
    idle: 'card', identified: 'person', guiding: 'face', challenge: 'eye',
    flash: 'sun', matching: 'wait',
  };
  const PREVIEW_STATES = new Set(['identified', 'guiding', 'challenge', 'matching']);
  const RESULT_ICONS = { ok: 'ok', warn: 'warn', window: 'window', clock: 'clock', stop: 'stop' };

  const kiosk = { view: null, views: 0, online: false, connects: 0 };
  window.kiosk = kiosk;
  let source = null;
  let lastSeen = Date.now();
  let countdownEnd = null;
  let previewOn = false;
  let previewN = 0;

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function setIcon(svg, name) {
    svg.querySelector('use').setAttribute('href', '#i-' + name);
  }

  function show(id) {
    for (const screen of SCREENS) $(screen).hidden = screen !== id;
  }

  /* ---- rendering ------------------------------------------------------------------------ */
  function render(view) {
    const previous = kiosk.view;
    kiosk.view = view;
    kiosk.views += 1;
    document.body.dataset.state = view.state;
    if (view.state === 'flash') renderFlash(view);
    else if (view.state === 'decided') renderResult(view, previous);
    else if (view.state === 'idle' && cfg.worker_mode) show('screen-worker');
    else if (view.state === 'consent') show('screen-consent');
    else renderMain(view);
    setPreview(PREVIEW_STATES.has(view.state));
    document.dispatchEvent(new CustomEvent('kiosk:view', { detail: view }));
  }

  function renderMain(view) {
    show('screen-main');
    setIcon($('guide-icon'), STATE_ICONS[view.state] || 'face');
    setText($('guide-zh'), view.zh || '');
    setText($('guide-en'), view.en || '');
    $('guide-en').hidden = !view.en;
    $('preview-wrap').hidden = !PREVIEW_STATES.has(view.state);
    setCountdown(view.countdown_s);
    setProgress(view.progress);
  }

  function renderFlash(view) {
    show('screen-flash');
    const [r, g, b] = view.flash_rgb;
    const flash = $('screen-flash');
    flash.style.backgroundColor = `rgb(${r}, ${g}, ${b})`;
    const light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 140;
    flash.style.color = light ? '#000000' : '#ffffff';
    setText($('flash-zh'), view.zh || '');
    setCountdown(null);
  }

  function renderResult(view, previous) {
    show('screen-result');
    const screen = view.screen;
    const section = $('screen-result');
    section.dataset.decision = view.result.decision;
    setIcon($('result-icon'), RESULT_ICONS[screen.icon] || 'warn');
    setText($('result-title'), screen.title_zh);
    setText($('result-title-en'), screen.title_en);
    const list = $('result-reason-list');
    list.replaceChildren();
    const ownWords = view.result.decision === 'fail' && view.zh && view.zh !== screen.title_zh;
    const reasons = screen.reasons.length ? screen.reasons
      : (ownWords ? [{ zh: view.zh, en: view.en }] : []);
    for (const reason of reasons) {
      const item = document.createElement('li');
      item.textContent = reason.zh;
      list.appendChild(item);
    }
    $('result-reasons').hidden = reasons.length === 0;
    setText($('result-next'), screen.next_zh);
    setText($('result-next-en'), screen.next_en);
    setCountdown(null);
    if (!previous || previous.state !== 'decided') $('result-title').focus();
  }

  function setCountdown(seconds) {
    countdownEnd = seconds === null || seconds === undefined ? null
      : performance.now() + seconds * 1000;
    tickCountdown();
  }

  function tickCountdown() {
    const box = $('countdown');
    if (countdownEnd === null) {
      box.hidden = true;
      return;
    }
    const left = Math.max(0, Math.ceil((countdownEnd - performance.now()) / 1000));
    setText($('countdown-text'), T.countdown_zh.replace('{n}', String(left)));
    box.hidden = false;
  }

  function setProgress(fraction) {
    const box = $('progress');
    if (fraction === null || fraction === undefined) {
      box.hidden = true;
      return;
    }
    const percent = Math.round(fraction * 100);
    $('progress-bar').style.width = percent + '%';
    box.setAttribute('aria-valuenow', String(percent));
    setText($('progress-text'), T.progress_zh.replace('{n}', String(percent)));
    box.hidden = false;
  }

  /* ---- live preview: the newest frame, polled while a face is being checked ------------- */
  function setPreview(on) {
    if (on === previewOn) return;
    previewOn = on;
    if (on) nextPreview();
    else $('preview').hidden = true;
  }

  function nextPreview() {
    if (!previewOn) return;
    const img = new Image();
    img.onload = () => {
      const preview = $('preview');
      preview.src = img.src;
      preview.hidden = false;
      $('preview-wait').hidden = true;
      setTimeout(nextPreview, cfg.preview_interval_ms);
    };
    img.onerror = () => {
      $('preview-wait').hidden = !$('preview').hidden;
      setTimeout(nextPreview, Math.max(500, cfg.preview_interval_ms));
    };
    previewN += 1;
    img.src = '/preview.jpg?n=' + previewN;
  }

  /* ---- connection: EventSource reconnects by itself; the watchdog covers the rest ------- */
  function setOnline(online) {
    kiosk.online = online;
    $('offline').hidden = online;
  }

  function seen() {
    lastSeen = Date.now();
    setOnline(true);
  }

  function connect() {
    if (source) source.close();
    kiosk.connects += 1;
    lastSeen = Date.now();
    source = new EventSource('/events');
    source.onopen = seen;
    source.addEventListener('ping', seen);
    source.addEventListener('view', (event) => {
      seen();
      try {
        render(JSON.parse(event.data));
      } catch (err) {
        console.error('kiosk: bad view', err);
      }
    });
    source.onerror = () => {
      setOnline(false);
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
    };
  }

  function watchdog() {
    tickCountdown();
    const silentMs = Date.now() - lastSeen;
    if (silentMs > cfg.heartbeat_s * 1000 * 2.5) setOnline(false);
    if (silentMs > cfg.heartbeat_s * 1000 * 3) connect();
  }

  function init() {
    if (!cfg.show_english) document.body.classList.add('no-en');
    setText($('offline-text'), T.offline_zh);
    setText($('preview-wait'), T.no_preview_zh);
    setText($('guide-zh'), T.idle_zh);
    setText($('guide-en'), T.idle_en);
    if (cfg.worker_mode) show('screen-worker');
    connect();
    setInterval(watchdog, 250);
  }

  kiosk.config = cfg;
  init();
})();
