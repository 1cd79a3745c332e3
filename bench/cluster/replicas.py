"""Scenario 12: the hosts read from a streaming replica that replays 2 s late.

A hot standby of the run's primary is made with `pg_basebackup -R` and
`recovery_min_apply_delay = 2s` (bench/replica.py's Standby), behind a PgBouncer of its own on
the bridge; the hosts restart with DATABASE_REPLICA_URL pointing at it. Then:

- an edit through the API (the token's requests use the primary): for the next 2.5 s every
  host is asked directly, every 100 ms, for the story page and the API detail as an anonymous
  reader, whose reads go to the standby. While the standby still holds the old title (checked
  on it), no answer may show it: the content version carries the primary's WAL position and a
  host whose standby is behind renders from the primary (the LSN guard, docs/cluster.md);
- the standby stopped under a reader load through the balancer: reads move to the primary,
  and no answer is a 5xx or missing beyond the requests in flight at the stop; /readyz says
  "down" for the replica and stays 200.

The hosts go back to the primary alone afterwards."""

import json
import time

from bench.cluster.clients import Api
from bench.cluster.edge import corpus
from bench.cluster.load import BROWSER, Load, fetch
from bench.cluster.outcome import Result, marker, verdict
from bench.cluster.services import Bouncer
from bench.replica import DELAY_SECONDS, Standby

POLL_SECONDS = 2.5
POLL_EVERY = 0.1


def start_standby(run) -> tuple[Standby, Bouncer]:
    hba = run.pg.data / "pg_hba.conf"
    hba.write_text(hba.read_text() + "host replication postgres 127.0.0.1/32 trust\n")
    run.pg.ctl("reload")
    time.sleep(0.3)
    standby = Standby(run.root / "standby", run.pg)
    standby.init()
    standby.start()
    run.registry.add("standby", standby.postmaster_pid())
    bouncer = Bouncer(run.root / "pgbouncer-standby", standby, 20, run.net.gateway)
    bouncer.start()
    run.registry.add("pgbouncer-standby", bouncer.process.pid)
    return standby, bouncer


def s12_replica(run) -> Result:
    standby, bouncer = start_standby(run)
    try:
        # The read limit lifted, as for every load here: the run's readers all come from one
        # address, and the loads before may have used up its window (then each API read of
        # the poll would be a 429, counted stale).
        run.ensure_env(
            run.site_env(DATABASE_REPLICA_URL=bouncer.url(), API_THROTTLE_READ="1000000/min")
        )
        states = {host.name: replica_state(fetch(host.base, "/readyz").text) for host in run.hosts}
        reads_before = standby_transactions(standby)
        lag = lag_check(run, standby)
        lag["standby_transactions"] = standby_transactions(standby) - reads_before
        down = stop_check(run, standby)
    finally:
        run.ensure_env(run.site_env())
        bouncer.stop()
        standby.stop()
    oks = [lag["stale"] == 0, lag["standby_behind"], down["failed_beyond_in_flight"] == 0]
    oks.append(set(states.values()) == {"up"} and lag["standby_transactions"] > 0)
    oks.append(down["readyz_status"] == [200] * len(run.hosts))
    summary = (
        f"replica {'/'.join(sorted(set(states.values())))} on every host, "
        f"{lag['standby_transactions']} transactions on it while polling; "
        f"during {POLL_SECONDS} s after an edit ({DELAY_SECONDS} s replay delay; the standby "
        f"{'still held the old title' if lag['standby_behind'] else 'had already replayed it'}):"
        f" {lag['stale']} stale of {lag['answers']} anonymous answers from the hosts; standby "
        f"stopped under load: {down['failed']} failed of {down['after_stop']} requests after "
        f"the stop ({down['in_flight']} in flight at it; {down['failures']}), /readyz {down['readyz_status']} "
        f"with replica {down['readyz_replica']}"
    )
    return Result(12, verdict(all(oks)), summary, {"ready": states, "lag": lag, "down": down})


def lag_check(run, standby: Standby) -> dict:
    pk, path = corpus(run)[1]
    for host in run.hosts:  # every host has the page kept, as readers left it
        fetch(host.base, path, headers={"User-Agent": BROWSER})
    editor = Api(run.lb_base, run.token)
    status, current = editor.call("GET", f"/stories/{pk}")
    if status != 200:
        raise RuntimeError(f"GET /stories/{pk} answered {status}: {current}")
    word = marker()
    editor.patch(pk, current["version"], title=word)
    behind = word not in standby.title(pk)
    answers, stale = 0, []
    edited = time.monotonic()
    deadline = edited + POLL_SECONDS
    while time.monotonic() < deadline:
        for host in run.hosts:
            for asked in (path, f"/api/v1/stories/{pk}"):
                answer = fetch(host.base, asked, headers={"User-Agent": BROWSER})
                answers += 1
                if answer.status != 200 or word not in answer.text:
                    stale.append(
                        f"{host.name} {asked} {answer.status or answer.error} "
                        f"{answer.headers.get('x-cache', '')} at "
                        f"{time.monotonic() - edited:.2f} s"
                    )
        time.sleep(POLL_EVERY)
    return {
        "story": pk,
        "answers": answers,
        "stale": len(stale),
        "stale_answers": stale,
        "standby_behind": behind,
        "standby_caught_up": word in standby.title(pk),
    }


def stop_check(run, standby: Standby) -> dict:
    load = Load(run.lb_base, run.reader_paths, clients=6, seconds=12).start()
    time.sleep(4)
    stopped_at = time.time()
    in_flight = load.in_flight_now()
    standby.stop()
    time.sleep(3)
    ready = [fetch(host.base, "/readyz") for host in run.hosts]
    time.sleep(5)
    load.stop()
    # From the stop on (the requests then in flight included): what readers met.
    after = [record for record in load.records if record.started + record.seconds >= stopped_at]
    failed = [record for record in after if record.status == 0 or record.status >= 500]
    replica = sorted({replica_state(answer.text) for answer in ready})
    return {
        "after_stop": len(after),
        "failed": len(failed),
        "failures": ", ".join(
            sorted({f"{record.status or record.error} {record.path}" for record in failed})
        )
        or "none",
        "in_flight": in_flight,
        "failed_beyond_in_flight": max(0, len(failed) - in_flight),
        "readyz_status": [answer.status for answer in ready],
        "readyz_replica": replica,
    }


def replica_state(text: str) -> str:
    try:
        return json.loads(text).get("replica", "?")
    except ValueError:
        return text[:60]


def standby_transactions(standby: Standby) -> int:
    """Transactions the standby has run in the site's database (reads: it can run no other)."""
    with standby.admin() as conn:
        return int(
            conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'bench'"
            ).fetchone()[0]
        )
