/* The language buttons, the card-mode consent screen and the helper banner. */
'use strict';
(function () {
  const kiosk = window.kiosk;
  const cfg = kiosk.config;
  const T = cfg.texts;
  const $ = (id) => document.getElementById(id);
  const LANGUAGE_STATES = new Set(['idle', 'consent']);
  const HELPER_STATES = new Set(['identified', 'guiding', 'challenge', 'matching']);
  const consent = { helper: false, sent: null, lastState: null };
  kiosk.consent = consent;

  async function post(path, payload) {
    try {
      const response = await fetch(path, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
      return response.status;
    } catch (err) {
      return 0;
    }
  }

  /* ---- language: one large button per offered language, the chosen one pressed -------- */
  function buildLanguages() {
    const box = $('lang-buttons');
    for (const language of cfg.languages) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-lang';
      button.id = 'lang-' + language.code;
      button.dataset.language = language.code;
      button.textContent = language.button_zh;
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', () => post('/api/language', { language: language.code }));
      box.appendChild(button);
    }
    $('lang-label').textContent = T.language_label_zh;
  }

  function showLanguages(view) {
    $('lang-bar').hidden = cfg.languages.length < 2 || !LANGUAGE_STATES.has(view.state);
    for (const button of document.querySelectorAll('#lang-buttons button')) {
      button.setAttribute('aria-pressed', String(button.dataset.language === view.language));
    }
  }

  /* ---- consent: agree, or the other way; "someone is helping me" goes with the answer -- */
  function setHelper(on) {
    consent.helper = on;
    $('c-helper').setAttribute('aria-pressed', String(on));
    $('c-helper-text').textContent = on ? T.helper_on_zh : T.helper_zh;
  }

  function openConsent() {
    $('c-title').textContent = T.consent_title_zh;
    $('c-body').textContent = T.consent_body_zh;
    $('c-body-en').textContent = T.consent_body_en;
    $('c-agree-text').textContent = T.agree_zh;
    $('c-decline-text').textContent = T.decline_zh;
    $('c-error').textContent = '';
    setHelper(false);  // nothing of an earlier person's answer is kept
    setAnswering(false);
    consent.sent = null;
    $('c-title').focus();
  }

  function setAnswering(busy) {
    for (const id of ['c-agree', 'c-decline', 'c-helper']) $(id).disabled = busy;
  }

  async function answer(accepted) {
    setAnswering(true);
    const status = await post('/api/consent', {
      accepted, notice_version: cfg.notice_version, assisted: consent.helper,
    });
    consent.sent = { accepted, assisted: consent.helper, status };
    if (status !== 202) {
      $('c-error').textContent = T.send_failed_zh;
      setAnswering(false);
    }
  }

  function onView(event) {
    const view = event.detail;
    showLanguages(view);
    if (view.state === 'consent' && consent.lastState !== 'consent') openConsent();
    $('helper-banner').hidden = !(view.assisted && HELPER_STATES.has(view.state));
    consent.lastState = view.state;
  }

  function init() {
    buildLanguages();
    $('helper-banner-text').textContent = T.helper_banner_zh;
    $('c-agree').addEventListener('click', () => answer(true));
    $('c-decline').addEventListener('click', () => answer(false));
    $('c-helper').addEventListener('click', () => setHelper(!consent.helper));
    document.addEventListener('kiosk:view', onView);
    if (kiosk.view) onView({ detail: kiosk.view });
  }

  init();
})();
