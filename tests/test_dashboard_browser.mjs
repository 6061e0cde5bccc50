// Drives the dashboard in headless Chromium (Debian's, through
// playwright-core, which never downloads a browser) for
// tests/test_dashboard_browser.py: that test starts the daemon, creates the
// resources named in DASHBOARD_CASE (JSON), runs this script, and checks the
// JSON it prints. Screenshots go to SCREENSHOTS.
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.NODE_ROOT, "package.json"));
const { chromium } = require("playwright-core");

const base = process.env.DASHBOARD_URL + "/_awsemu/";
const shots = process.env.SCREENSHOTS;
const cases = JSON.parse(process.env.DASHBOARD_CASE);
const found = {};

const profile = mkdtempSync(join(tmpdir(), "awsemu-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20000);

async function visit(path, shot) {
  const response = await page.goto(base + path);
  await page.screenshot({ path: join(shots, shot + ".png"), fullPage: true });
  return response.status();
}

try {
  await visit("", "overview");
  found.overview = await page.textContent("main");
  // The request table refreshes itself: an S3 call made now shows up in it.
  await page.request.get(process.env.DASHBOARD_URL + "/" + cases.bucket + "/" + cases.live_marker);
  await page.waitForFunction(
    (marker) => document.getElementById("requests").textContent.includes(marker), cases.live_marker,
  );
  found.requests_live = await page.textContent("#requests");

  found.s3_status = await visit("s3", "s3-buckets");
  found.buckets = await page.textContent("#buckets");
  await page.click(`text=${cases.bucket}`);
  await page.waitForSelector("#objects");
  found.objects = await page.textContent("#objects");
  await page.setInputFiles("input[name=file]", {
    name: "uploaded.txt", mimeType: "text/plain", buffer: Buffer.from(cases.upload_text),
  });
  await Promise.all([page.waitForNavigation(), page.click("form.upload button")]);
  await page.screenshot({ path: join(shots, "s3-objects.png"), fullPage: true });
  found.objects_after_upload = await page.textContent("#objects");
  await page.click("text=uploaded.txt");
  await page.waitForSelector("#download");
  await page.screenshot({ path: join(shots, "s3-object.png"), fullPage: true });
  found.object_page = await page.textContent("main");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  found.downloaded = readFileSync(await download.path(), "utf8");

  await visit("lambda", "lambda-functions");
  found.functions = await page.textContent("#functions");
  await visit("lambda/" + cases.function, "lambda-function");
  await page.fill("textarea[name=payload]", JSON.stringify({ name: "browser" }));
  await Promise.all([page.waitForNavigation(), page.click("form.invoke button")]);
  await page.waitForSelector("#payload");
  await page.screenshot({ path: join(shots, "lambda-invoke.png"), fullPage: true });
  found.invoke_payload = await page.textContent("#payload");
  found.invoke_log = await page.textContent("#log");
  found.invocations = await page.textContent("#invocations");
  found.function_facts = await page.textContent("main dl");

  // Tail the function's group in one tab while another invokes it.
  await visit("logs", "logs-groups");
  found.groups = await page.textContent("#groups");
  await visit("logs/group?name=" + encodeURIComponent("/aws/lambda/" + cases.function), "logs-group");
  const other = await context.newPage();
  await other.goto(base + "lambda/" + cases.function);
  await other.fill("textarea[name=payload]", JSON.stringify({ name: cases.tail_marker }));
  await Promise.all([other.waitForNavigation(), other.click("form.invoke button")]);
  await page.waitForFunction(
    (marker) => document.getElementById("tail").textContent.includes(marker), cases.tail_marker,
  );
  await page.screenshot({ path: join(shots, "logs-tail.png"), fullPage: true });
  found.tail = await page.textContent("#tail");

  if (cases.table) {
    await visit("dynamodb", "dynamodb-tables");
    found.tables = await page.textContent("#tables");
    await visit("dynamodb/" + cases.table, "dynamodb-table");
    await page.fill("textarea[name=item]", JSON.stringify({ pk: { S: "from-browser" }, n: { N: "7" } }));
    await Promise.all([page.waitForNavigation(), page.click("button[value=put]")]);
    await page.screenshot({ path: join(shots, "dynamodb-items.png"), fullPage: true });
    found.items = await page.textContent("#items");
    found.item_notice = await page.textContent("main .notice");
  }

  await visit("apigateway", "apigateway-apis");
  found.apis = await page.textContent("#apis");
  await visit("apigateway/" + cases.api, "apigateway-api");
  found.stages = await page.textContent("#stages");
  found.resources = await page.textContent("#resources");
  const invokeUrl = await page.getAttribute("#stages a", "href");
  const answer = await page.request.get(invokeUrl);
  found.stage_answer = answer.status();
  await visit("apigateway/" + cases.api, "apigateway-api");
  found.stage_requests = await page.textContent("#stage-requests");

  await visit("iam", "iam");
  found.iam = await page.textContent("main");
  found.html = {};
  for (const path of ["", "iam", "s3", "lambda"]) {
    found.html[path] = await (await page.request.get(base + path)).text();
  }
} catch (error) {
  found.error = String(error.stack || error);
  await page.screenshot({ path: join(shots, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(found));
