package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharethings/sharethings/api"
)

// What several instances sharing one PostgreSQL database and data directory need of each
// other: events, upload locks, rate limits and per-session serialization. These tests run on
// PostgreSQL only; SQLite has no other instances.

// waitLimit bounds every wait for something another instance does asynchronously. Waits end
// as soon as it happens; only a failing test waits this long.
const waitLimit = 10 * time.Second

// signalingBroker is a recordingBroker that signals each Publish, so a test can wait for
// events another instance relays without sleeping.
type signalingBroker struct {
	recordingBroker
	signal chan struct{} // holds at most one pending signal
}

func newSignalingBroker() *signalingBroker { return &signalingBroker{signal: make(chan struct{}, 1)} }

func (b *signalingBroker) Publish(events []api.Event) {
	b.recordingBroker.Publish(events)
	select {
	case b.signal <- struct{}{}:
	default: // a signal is pending already; the waiter will look at everything published
	}
}

// waitFor waits until what has been published satisfies done, and returns it.
func (b *signalingBroker) waitFor(t *testing.T, what string, done func([]api.Event) bool) []api.Event {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		if events := b.published(); done(events) {
			return events
		}
		select {
		case <-b.signal:
		case <-deadline:
			t.Fatalf("waited %v for %s; published %v", waitLimit, what, eventTypes(b.published()))
		}
	}
}

// instances are two servers sharing the database and data directory of a PostgreSQL fixture:
// a is the fixture's own store, b a second one; each has a broker of its own.
type instances struct {
	f                *fixture
	a, b             *DB
	aBroker, bBroker *signalingBroker
}

// newInstances opens a second instance next to a new PostgreSQL fixture's. With follow, both
// follow the other and are listening when it returns.
func newInstances(t *testing.T, follow bool) *instances {
	t.Helper()
	f := newFixture(t, "postgres")
	in := &instances{f: f, a: f.db, aBroker: newSignalingBroker(), bBroker: newSignalingBroker()}
	in.a.Broker = in.aBroker
	b, err := OpenPostgres(t.Context(), f.url, f.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	b.Now = func() time.Time { return f.now }
	b.Broker = in.bBroker
	in.b = b
	if follow {
		followOthers(t, in.a)
		followOthers(t, in.b)
	}
	return in
}

// followOthers starts db following the other instances and waits until it listens: catchUp
// runs once the listener has subscribed, so nothing committed after this returns is missed.
func followOthers(t *testing.T, db *DB) {
	t.Helper()
	listening := make(chan struct{}, 1)
	db.FollowOthers(Relay{CatchUp: func(context.Context) {
		select {
		case listening <- struct{}{}:
		default:
		}
	}})
	select {
	case <-listening:
	case <-time.After(waitLimit):
		t.Fatalf("not listening to other instances after %v", waitLimit)
	}
}

// joinOn joins a session through db, with the passphrase "pw".
func joinOn(t *testing.T, db *DB, sid string, k *api.KDF) *api.Joined {
	t.Helper()
	j, err := db.JoinSession(t.Context(), api.JoinInput{SessionID: sid, ClientName: "tester", Fingerprint: fingerprint(sid, "pw"), KDF: k})
	if err != nil {
		t.Fatalf("join %s: %v", sid, err)
	}
	return j
}

// checkOnce fails unless every event of events has an id of its own.
func checkOnce(t *testing.T, events []api.Event) {
	t.Helper()
	seen := map[int64]bool{}
	for _, e := range events {
		if seen[e.ID] {
			t.Fatalf("event %d (%s) published twice: %v", e.ID, e.Type, eventTypes(events))
		}
		seen[e.ID] = true
	}
}

func TestSharedEventsReachOtherInstances(t *testing.T) {
	in := newInstances(t, true)
	f := in.f

	// Through a: a new session, an item, a pin, and an upload whose last chunk commits two
	// events in one transaction.
	f.join(t, "s1", "pw", kdf(1))
	c := f.create(t, "s1", itemID(1), 1)
	pin := true
	if _, err := in.a.UpdateContent(t.Context(), "s1", c.ID, api.ContentUpdate{Pinned: &pin}); err != nil {
		t.Fatal(err)
	}
	f.storeChunk(t, c, 0)
	f.join(t, "s2", "pw", kdf(1))
	fromA := in.aBroker.published()
	if len(fromA) != 6 {
		t.Fatalf("a published %v, want 6 events", eventTypes(fromA))
	}

	relayed := in.bBroker.waitFor(t, "a's events on b", func(events []api.Event) bool { return len(events) >= len(fromA) })
	checkSameEvents(t, relayed, fromA)
	for _, sid := range []string{"s1", "s2"} {
		checkChain(t, sessionEvents(relayed, sid), 0)
	}

	// An event recorded through b reaches a; a's listener handles notifications in commit
	// order, so by then it has had (and ignored) the ones of a's own commits.
	joinOn(t, in.b, "s1", nil)
	fromB := in.bBroker.published()[len(fromA):]
	all := in.aBroker.waitFor(t, "b's join on a", func(events []api.Event) bool { return len(events) > len(fromA) })
	checkOnce(t, all)
	checkSameEvents(t, all[len(fromA):], fromB)
	if s1 := sessionEvents(all, "s1"); s1[len(s1)-1].Prev != sessionEvents(fromA, "s1")[4].ID {
		t.Fatalf("b's join follows %d, want a's last event of s1", s1[len(s1)-1].Prev)
	}
	logged, err := in.b.ListEvents(t.Context(), "s1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkSameEvents(t, sessionEvents(all, "s1"), logged)
	checkSameEvents(t, sessionEvents(in.bBroker.published(), "s1"), logged)
}

func TestSharedCatchUp(t *testing.T) {
	in := newInstances(t, false)
	connected := make(chan struct{}, 10)
	in.a.FollowOthers(Relay{CatchUp: func(context.Context) {
		select {
		case connected <- struct{}{}:
		default:
		}
	}})
	waitConnected := func(what string) {
		t.Helper()
		select {
		case <-connected:
		case <-time.After(waitLimit):
			t.Fatalf("catchUp not called %s within %v", what, waitLimit)
		}
	}
	waitConnected("once connected")

	// Cut the listener's connection: a reconnects and catches up again.
	rows, err := in.b.writer.QueryContext(t.Context(), `
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'`)
	if err != nil {
		t.Fatal(err)
	}
	terminated := 0
	for rows.Next() {
		terminated++
	}
	rows.Close()
	if terminated != 1 {
		t.Fatalf("terminated %d listening connections, want a's one", terminated)
	}
	waitConnected("after reconnecting")

	// And it relays again.
	joinOn(t, in.b, "s1", kdf(1))
	in.aBroker.waitFor(t, "b's join on a after reconnecting", func(events []api.Event) bool { return len(events) == 1 })
}

// lockResult is what a LockUpload running in the background returned.
type lockResult struct {
	unlock func()
	err    error
}

// lockInBackground starts db.LockUpload and returns where its result will arrive.
func lockInBackground(ctx context.Context, db *DB, uploadID string) <-chan lockResult {
	done := make(chan lockResult, 1)
	go func() {
		unlock, err := db.LockUpload(ctx, uploadID, func() {})
		done <- lockResult{unlock, err}
	}()
	return done
}

// signalOnCall is a released callback that signals each call on the returned channel.
func signalOnCall() (func(), <-chan struct{}) {
	called := make(chan struct{}, 1)
	return func() {
		select {
		case called <- struct{}{}:
		default:
		}
	}, called
}

func TestSharedUploadLocks(t *testing.T) {
	in := newInstances(t, true)
	lock := func(t *testing.T, db *DB, id string, released func()) func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
		defer cancel()
		unlock, err := db.LockUpload(ctx, id, released)
		if err != nil {
			t.Fatalf("lock %s: %v", id, err)
		}
		return unlock
	}

	for name, waiterOn := range map[string]*DB{"OtherInstance": in.b, "SameInstance": in.a} {
		t.Run("WaiterAsksTheHolderAndGetsTheLockOnceFreed/"+name, func(t *testing.T) {
			released, asked := signalOnCall()
			unlockA := lock(t, in.a, "u1-"+name, released)
			waiter := lockInBackground(t.Context(), waiterOn, "u1-"+name)
			select {
			case <-asked:
			case r := <-waiter:
				t.Fatalf("b locked an upload a holds: %v", r.err)
			case <-time.After(waitLimit):
				t.Fatalf("a was not asked to let go within %v", waitLimit)
			}
			select {
			case r := <-waiter:
				t.Fatalf("b locked the upload before a let go: %v", r.err)
			default:
			}
			unlockA()
			select {
			case r := <-waiter:
				if r.err != nil {
					t.Fatalf("b's lock after a let go: %v", r.err)
				}
				r.unlock()
			case <-time.After(waitLimit):
				t.Fatalf("b did not get the lock within %v of a letting go", waitLimit)
			}
		})
	}
	t.Run("WaiterGivesUpWhenItsContextEnds", func(t *testing.T) {
		unlockA := lock(t, in.a, "u2", func() {})
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		unlock, err := in.b.LockUpload(ctx, "u2", func() {})
		// tusd's locker takes a deadline error for its lock timeout.
		if !errors.Is(err, context.DeadlineExceeded) || unlock != nil {
			t.Fatalf("b locked an upload a holds: unlock %v, err %v; want the context's deadline error", unlock != nil, err)
		}
		unlockA()
		// The waiter that gave up holds nothing: the lock is free at once.
		ctx, cancel = context.WithTimeout(t.Context(), waitLimit)
		defer cancel()
		unlock, err = in.a.LockUpload(ctx, "u2", func() {})
		if err != nil {
			t.Fatalf("after the waiter gave up, the lock is still held: %v", err)
		}
		unlock()
	})
	t.Run("DifferentUploadsDoNotWait", func(t *testing.T) {
		released, asked := signalOnCall()
		unlockA := lock(t, in.a, "u3", released)
		defer unlockA()
		lock(t, in.b, "u4", func() {})()
		select {
		case <-asked:
			t.Fatal("locking another upload asked a to let go")
		default:
		}
	})
	t.Run("ManyHeldAtOnceLeaveTheDatabaseToOthers", func(t *testing.T) {
		// More uploads held at once than the pool has connections: their locks share one, so
		// the queries of the requests holding them still get theirs.
		var unlocks []func()
		for i := range 2 * postgresPoolSize {
			unlocks = append(unlocks, lock(t, in.a, fmt.Sprintf("many-%d", i), func() {}))
		}
		ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
		defer cancel()
		if err := in.a.Ping(ctx); err != nil {
			t.Fatalf("with %d uploads held, the database: %v", len(unlocks), err)
		}
		for _, unlock := range unlocks {
			unlock()
		}
		lock(t, in.b, "many-0", func() {})()
	})
	t.Run("UnlockedIsFreeForTheOtherInstance", func(t *testing.T) {
		lock(t, in.a, "u5", func() {})()
		lock(t, in.b, "u5", func() {})()
		lock(t, in.a, "u5", func() {})()
	})
}

func TestSharedRateLimits(t *testing.T) {
	type take struct {
		on   string // "a" or "b"
		cost float64
		ok   bool
	}
	for _, tc := range []struct {
		name  string
		takes []take
	}{
		{"OneBucketForBoth", []take{{"a", 1, true}, {"b", 1, true}, {"a", 1, true}, {"a", 1, false}, {"b", 1, false}}},
		{"CostZeroOnlyLooks", []take{{"a", 0, true}, {"b", 0, true}, {"a", 1, true}, {"b", 1, true}, {"b", 0, true}, {"a", 1, true}, {"b", 0, false}, {"a", 1, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstances(t, false)
			dbs := map[string]*DB{"a": in.a, "b": in.b}
			for i, k := range tc.takes {
				ok, wait, err := dbs[k.on].TakeToken(t.Context(), "join 192.0.2.1", 3, k.cost)
				if err != nil || ok != k.ok || ok == (wait > 0) || wait > 20*time.Second {
					t.Fatalf("take %d (%s, cost %v) = %v, %v, %v; want ok=%v with a wait of at most 20s when refused", i, k.on, k.cost, ok, wait, err, k.ok)
				}
			}
		})
	}
	t.Run("ConcurrentTakesShareOneBucket", func(t *testing.T) {
		in := newInstances(t, false)
		taken := make([]bool, 12)
		var wg sync.WaitGroup
		for i := range taken {
			db := []*DB{in.a, in.b}[i%2]
			wg.Go(func() {
				ok, _, err := db.TakeToken(t.Context(), "join 192.0.2.1", 5, 1)
				if err != nil {
					t.Errorf("take: %v", err)
				}
				taken[i] = ok
			})
		}
		wg.Wait()
		if n := len(slices.DeleteFunc(taken, func(ok bool) bool { return !ok })); n != 5 {
			t.Fatalf("%d of %d racing takes succeeded, want the bucket's 5", n, len(taken))
		}
	})
	t.Run("RefillsOverTheMinute", func(t *testing.T) {
		in := newInstances(t, false)
		for range 3 {
			if ok, _, err := in.a.TakeToken(t.Context(), "k", 3, 1); !ok || err != nil {
				t.Fatalf("a full bucket refused: %v", err)
			}
		}
		ok, wait, err := in.b.TakeToken(t.Context(), "k", 3, 1)
		if ok || wait != 20*time.Second || err != nil {
			t.Fatalf("empty bucket = %v, %v, %v; want a wait of 20s", ok, wait, err)
		}
		in.f.now = in.f.now.Add(20 * time.Second)
		if ok, _, err := in.b.TakeToken(t.Context(), "k", 3, 1); !ok || err != nil {
			t.Fatalf("20s later one token is back: %v, %v", ok, err)
		}
		if ok, wait, _ := in.a.TakeToken(t.Context(), "k", 3, 1); ok || wait <= 0 {
			t.Fatalf("and only one: %v, %v", ok, wait)
		}
		if ok, _, _ := in.a.TakeToken(t.Context(), "other", 3, 1); !ok {
			t.Fatal("another key has a bucket of its own")
		}
	})
	t.Run("PruneForgetsBucketsUnusedForAMinute", func(t *testing.T) {
		in := newInstances(t, false)
		start := in.f.now
		keys := func() []string {
			rows, err := in.a.reader.QueryContext(t.Context(), `SELECT key FROM rate_limits ORDER BY key`)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := scanStrings(rows)
			if err != nil {
				t.Fatal(err)
			}
			return keys
		}
		for _, step := range []struct {
			key string
			at  time.Duration
		}{{"idle", 0}, {"recent", 30 * time.Second}} {
			in.f.now = start.Add(step.at)
			if _, _, err := in.b.TakeToken(t.Context(), step.key, 1, 1); err != nil {
				t.Fatal(err)
			}
		}
		in.f.now = start.Add(61 * time.Second)
		if err := in.a.PruneRateLimits(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := keys(); !slices.Equal(got, []string{"recent"}) {
			t.Fatalf("buckets kept: %v, want only the one used 31s ago", got)
		}
	})
}

func TestSharedSessionLock(t *testing.T) {
	// Two instances that do not follow each other: each broker has only what its instance
	// recorded, with the Prev read when recording.
	in := newInstances(t, false)
	in.f.join(t, "s1", "pw", kdf(1))
	const quota, tries = 4, 16
	limits := api.ContentLimits{MaxChunkSize: api.MaxChunkSize, MaxItemBytes: 1 << 40, SessionQuotaBytes: 1 << 40, SessionMaxItems: quota}
	items := make([]*api.Content, tries)
	for i := range items {
		items[i] = newItem(t, "s1", itemID(i+1), 1)
	}
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i, c := range items {
		db := []*DB{in.a, in.b}[i%2]
		wg.Go(func() {
			errs[i] = db.CreateContent(t.Context(), c, limits)
			if _, err := db.JoinSession(t.Context(), api.JoinInput{SessionID: "s1", ClientName: "w", Fingerprint: fingerprint("s1", "pw")}); err != nil {
				t.Errorf("join: %v", err)
			}
		})
	}
	wg.Wait()
	accepted := countAccepted(t, errs)
	if stored := in.f.listAll(t, "s1", api.NewestFirst, 100); accepted != quota || len(stored) != quota {
		t.Fatalf("%d accepted, %d stored; want %d", accepted, len(stored), quota)
	}

	// Both instances' events make one chain without gaps: ids were committed in id order
	// across instances.
	recorded := append(in.aBroker.published(), in.bBroker.published()...)
	slices.SortFunc(recorded, func(x, y api.Event) int { return cmp.Compare(x.ID, y.ID) })
	logged, err := in.a.ListEvents(t.Context(), "s1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1+quota+tries {
		t.Fatalf("logged %d events, want %d", len(logged), 1+quota+tries)
	}
	checkChain(t, recorded, 0)
	checkSameEvents(t, recorded, logged)
}

func TestSharedFinishUploadOfAnItemDeletedMeanwhile(t *testing.T) {
	// Instance a finishes an upload while instance b deletes its item: b's transaction holds
	// the session when a has found the upload and waits for the session.
	in := newInstances(t, false)
	f := in.f
	f.join(t, "s1", "pw", kdf(1))
	c := f.create(t, "s1", itemID(1), 1)
	u := f.begin(t, c, 0)

	deleting, err := in.b.begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer deleting.Rollback()
	if err := deleting.lockSession(t.Context(), "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := deleting.ExecContext(t.Context(), `DELETE FROM content_metadata WHERE session_id = ? AND content_id = ?`, "s1", c.ID); err != nil {
		t.Fatal(err)
	}
	finished := make(chan error, 1)
	go func() { finished <- in.a.FinishUpload(context.WithoutCancel(t.Context()), u.ID, chunkSum(c, 0)) }()
	waitForLockWaiters(t, in.b, 1)
	if err := deleting.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-finished:
		if code := api.ErrorCode(err); code != api.ENOTFOUND && code != api.ECONTENTNOTFOUND {
			t.Fatalf("finishing an upload of an item deleted meanwhile: %v; want %s or %s", err, api.ENOTFOUND, api.ECONTENTNOTFOUND)
		}
	case <-time.After(waitLimit):
		t.Fatalf("FinishUpload still waiting %v after the deletion committed", waitLimit)
	}
}

// waitForLockWaiters waits until n connections to the fixture's database wait for a lock.
func waitForLockWaiters(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		var waiting int
		if err := db.reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d connections wait for a lock after %v, want %d", waiting, waitLimit, n)
		}
	}
}
