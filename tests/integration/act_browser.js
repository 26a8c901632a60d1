// Opens a link from a notice in headless Chromium (puppeteer-core over the
// DevTools protocol), acts as an officer would and reports what the page
// then says, as JSON on stdout:
//   node act_browser.js NODE_MODULES CHROMIUM URL STEP SCREENSHOT [READY]
// STEP: "look" (open only), "complete", "snooze:1w" | "snooze:2w" |
// "snooze:YYYY-MM-DD" (each may end ":WHY"), "progress:RAG:NOTE", "not-ours:TEAM:COMMENT",
// "reopen:WHY", "resume:WHY" (WHY may be empty).
// The page is driven through its own controls: the form whose `do` is the
// step's kind, its radio buttons, date and text fields, and its button.
// With READY, the form filled in, the file READY is written and the button
// is pressed only once READY.go exists (what changed meanwhile, the
// officer's page still open).
'use strict';
const [modules, chromium, url, step, shot, ready] = process.argv.slice(2);
const fs = require('fs');
const puppeteer = require(modules + '/puppeteer-core');

async function fill(page, form, step) {
  const [kind, a, ...rest] = step.split(':');
  const b = rest.join(':');
  if (kind === 'snooze') {
    if (/^\d{4}-\d{2}-\d{2}$/.test(a)) {
      const date = await form.$('input[type=date]');
      if (!date) throw new Error('the snooze form has no date field');
      await date.evaluate((el, v) => { el.value = v; }, a);
      const own = await form.$('input[type=radio][value=date]');
      if (own) await own.click();
    } else {
      const r = await form.$(`input[type=radio][value="${a}"]`);
      if (!r) throw new Error(`the snooze form has no choice ${a}`);
      await r.click();
    }
    if (b) {
      const note = await form.$('textarea');
      if (!note) throw new Error('the snooze form has no field for why');
      await note.type(b);
    }
  } else if (kind === 'progress') {
    const r = await form.$(`input[type=radio][value="${a}"]`);
    if (!r) throw new Error(`the progress form has no RAG choice ${a}`);
    await r.click();
    await (await form.$('textarea')).type(b);
  } else if (kind === 'not-ours') {
    const team = await form.$('input[type=text]');
    if (team && a) await team.type(a);
    const note = await form.$('textarea');
    if (note && b) await note.type(b);
  } else if (kind === 'reopen' || kind === 'resume') {
    const why = [a, b].filter(x => x).join(':');
    const note = await form.$('textarea');
    if (!note) throw new Error(`the ${kind} form has no field for why`);
    if (why) await note.type(why);
  }
  return kind;
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--window-size=1024,900']});
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1024, height: 900});
    const first = await page.goto(url, {waitUntil: 'load'});
    let status = first.status();
    if (step !== 'look') {
      const kind = step.split(':')[0];
      const forms = await page.$$('form');
      let form = null;
      for (const f of forms)
        if (await f.$(`[name=do][value="${kind}"]`)) { form = f; break; }
      if (!form) throw new Error(`no form for "${kind}" on ${page.url()}`);
      await fill(page, form, step);
      const button = await form.$(`button[name=do][value="${kind}"]`) ||
                     await form.$('button[type=submit], input[type=submit], button');
      if (ready) {
        fs.writeFileSync(ready, 'ready\n');
        while (!fs.existsSync(ready + '.go'))
          await new Promise(r => setTimeout(r, 100));
      }
      const [answer] = await Promise.all([
        page.waitForNavigation({waitUntil: 'load'}), button.click()]);
      status = answer ? answer.status() : 0;
    }
    await page.screenshot({path: shot, fullPage: true});
    const text = await page.evaluate(() => document.body.innerText);
    process.stdout.write(JSON.stringify({status, url: page.url(), text}) + '\n');
  } finally {
    await browser.close();
  }
})().catch(e => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
