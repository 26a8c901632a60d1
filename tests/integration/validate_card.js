// Validates Adaptive Cards with Microsoft's own library (npm adaptivecards).
// Usage: node validate_card.js NODE_MODULES_DIR < envelopes.json
// Reads a JSON array of Workflows envelopes; prints one line per card:
// "ok" or the parse and validation events; exits 1 if any card has one.
const path = require("path");
const AC = require(path.resolve(process.argv[2], "adaptivecards", "dist", "adaptivecards.js"));
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
let bad = 0;
for (const env of input) {
    const card = new AC.AdaptiveCard();
    const ctx = new AC.SerializationContext();
    card.parse(env.attachments[0].content, ctx);
    const events = [];
    for (let i = 0; i < ctx.eventCount; i++)
        events.push(ctx.getEventAt(i).message);
    for (const e of card.validateProperties().validationEvents)
        events.push(e.message);
    if (events.length) {
        bad++;
        console.log("card: " + events.join("; "));
    } else {
        console.log("ok");
    }
}
process.exit(bad ? 1 : 0);
