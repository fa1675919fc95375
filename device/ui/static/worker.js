/* Worker mode: operator id, the person's ID number, then consent (or another way to verify). */
'use strict';
(function () {
  const kiosk = window.kiosk;
  const cfg = kiosk.config;
  if (!cfg.worker_mode) return;
  const T = cfg.texts;
  const $ = (id) => document.getElementById(id);
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECKS = '10X98765432';
  const form = { step: 'operator', operator: '', id: '' };
  kiosk.worker = form;

  function validId(value) {
    if (!/^\d{17}[\dX]$/.test(value)) return false;
    let sum = 0;
    for (let i = 0; i < 17; i += 1) sum += Number(value[i]) * WEIGHTS[i];
    return CHECKS[sum % 11] === value[17];
  }

  function clean(value, step) {
    const upper = value.toUpperCase();
    return step === 'id' ? upper.replace(/[^0-9X]/g, '').slice(0, 18)
      : upper.replace(/[^0-9A-Z]/g, '').slice(0, 20);
  }

  function setStep(step) {
    form.step = step;
    const input = $('w-input');
    $('w-form').hidden = step !== 'operator' && step !== 'id';
    $('w-consent').hidden = step !== 'consent';
    $('w-done').hidden = step !== 'done';
    $('w-error').textContent = '';
    if (step === 'operator' || step === 'id') {
      const isId = step === 'id';
      $('w-label').textContent = isId ? T.id_label_zh : T.operator_label_zh;
      input.maxLength = isId ? 18 : 20;
      input.value = isId ? form.id : form.operator;
      $('w-back').hidden = !isId;
      input.focus();
    } else if (step === 'consent') {
      $('w-consent-title').textContent = T.consent_title_zh;
      $('w-consent-body').textContent = T.consent_body_zh;
      $('w-consent-en').textContent = T.consent_body_en;
      $('w-agree').focus();
    } else {
      $('w-done-text').focus();
    }
  }

  function confirmStep() {
    const value = clean($('w-input').value, form.step);
    if (form.step === 'operator') {
      if (!/^[0-9A-Z]{1,20}$/.test(value)) return fail(T.bad_operator_zh);
      form.operator = value;
      setStep('id');
    } else {
      if (!validId(value)) return fail(T.bad_id_zh);
      form.id = value;
      setStep('consent');
    }
    return undefined;
  }

  function fail(message) {
    $('w-error').textContent = message;
    $('w-input').focus();
  }

  function press(key) {
    const input = $('w-input');
    if (key === 'del') input.value = input.value.slice(0, -1);
    else input.value = clean(input.value + key, form.step);
    $('w-error').textContent = '';
    input.focus();
  }

  async function submit(consent) {
    const body = JSON.stringify({ id_number: form.id, operator_id: form.operator, consent });
    let ok = false;
    try {
      const response = await fetch('/api/worker', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
      });
      ok = response.status === 202;
    } catch (err) {
      ok = false;
    }
    form.id = '';
    $('w-input').value = '';
    $('w-done-text').textContent = !ok ? T.send_failed_zh
      : consent ? T.sent_zh : T.declined_zh;
    kiosk.workerResult = { ok, consent };
    setStep('done');
  }

  function back() {
    if (form.step === 'id') setStep('operator');
    else if (form.step === 'consent') setStep('id');
  }

  function wire() {
    $('w-form').addEventListener('submit', (event) => {
      event.preventDefault();
      confirmStep();
    });
    $('w-input').addEventListener('input', () => {
      const input = $('w-input');
      const value = clean(input.value, form.step);
      if (value !== input.value) input.value = value;
      $('w-error').textContent = '';
    });
    for (const button of document.querySelectorAll('.keypad button')) {
      button.addEventListener('click', () => press(button.dataset.key));
    }
    $('w-back').addEventListener('click', back);
    $('w-agree').addEventListener('click', () => submit(true));
    $('w-decline').addEventListener('click', () => submit(false));
    $('w-again').addEventListener('click', () => setStep('id'));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !$('screen-worker').hidden) back();
    });
    let lastState = 'idle';
    document.addEventListener('kiosk:view', (event) => {
      const state = event.detail.state;
      const typing = form.step === 'operator' || form.step === 'id';
      if (state === 'idle' && lastState !== 'idle' && form.step === 'done') setStep('id');
      else if (state === 'idle' && typing) $('w-input').focus();
      lastState = state;
    });
  }

  wire();
  setStep('operator');
})();
