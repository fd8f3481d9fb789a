"""NDR and PDR search over offered load, after FD.io CSIT's MLRsearch.

The search talks to the traffic generator only through a Driver: one
method, trial(rate, duration) -> (sent, received). ndr_search.py's TRex
driver is one; the tests use a simulated device. An optional DUT hook reads
the device's own counters around each trial, so that every trial in the
report says where the lost packets went.

How it searches, for each goal (NDR: loss ratio 0; PDR: 0.5 %):
- A trial at rate r passes a goal when its loss ratio is at most the goal's.
  Trials are kept and shared between goals (a trial at 0.2 % loss fails NDR
  and passes PDR), so PDR costs few trials of its own.
- Start at max_rate. If it passes, that is the result. If not, the next
  rate is what the device actually received per second there (its
  "maximum receive rate", MLRsearch's first guess). Above a passing rate
  the search steps up by `precision`, then by four times as much while the
  steps pass, and halves the interval once a step would cross its middle,
  until (upper - lower) / upper <= precision.
- Devices are not monotonic: a trial can lose packets at a rate the device
  sustains (noise, something periodic on the device), or get lucky above
  it. So once the bounds are within precision, each is measured again; when
  a rate's trials disagree it gets up to `retries` more (one more still if
  that would make an even number), and the majority of its trials decides. If that
  overturns a bound, the search goes on from the corrected bounds. No bound
  rests on a single trial.
- The search stops when every goal is settled (within precision, the
  maximum rate passes, or even the minimum rate fails), or before a trial
  would overrun `time_budget` seconds (its duration plus the most a trial
  has taken beyond that); then each goal's status says how far it got and
  its bounds are those of every trial made.
"""
import time
from dataclasses import dataclass, field

GOALS = (('NDR', 0.0), ('PDR', 0.005))


@dataclass
class Trial:
    rate: float           # offered, packets per second (all transmitting ports together)
    duration: float
    sent: int
    received: int
    dut: dict = field(default_factory=dict)   # the DUT hook's view of this trial

    @property
    def loss_ratio(self):
        if self.sent <= 0:
            return 1.0
        return max(0, self.sent - self.received) / self.sent

    @property
    def excess(self):
        """Frames received beyond those sent: something else reached the
        receiving port (they would hide as much loss)."""
        return max(0, self.received - self.sent)


class Driver:
    """What the search needs from a traffic generator."""

    def trial(self, rate, duration):  # pragma: no cover - interface
        """Send at `rate` packets per second for `duration` seconds, wait
        for what is still in flight, return (sent, received)."""
        raise NotImplementedError


@dataclass
class GoalResult:
    name: str
    loss_ratio: float
    lower: float = 0.0            # highest rate that passes (0: none found)
    upper: float = None           # lowest rate that fails (None: none failed)
    status: str = 'not_started'   # see STATUSES
    expansion: float = 0.0        # relative step above lower while probes pass (0: not started)

    @property
    def relative_width(self):
        if self.upper is None:
            return 0.0 if self.status == 'max_rate_passes' else None
        return (self.upper - self.lower) / self.upper

    @property
    def precision_reached(self):
        return self.status in ('precision_reached', 'max_rate_passes')


STATUSES = {
    'precision_reached': 'within precision',
    'max_rate_passes': 'the maximum rate passes',
    'fails_at_min_rate': 'fails even at the minimum rate',
    'out_of_time': 'precision NOT reached: out of time',
    'not_started': 'not started: out of time',
}


class Search:
    def __init__(self, driver, max_rate, min_rate=None, duration=10.0, precision=0.005, retries=2,
                 time_budget=600.0, goals=GOALS, dut=None, clock=time.monotonic, log=None):
        if max_rate <= 0:
            raise ValueError('max_rate must be positive')
        if min_rate is not None and not 0 < min_rate < max_rate:
            raise ValueError('min_rate must be positive and below max_rate')
        if not 0 < precision < 1:
            raise ValueError('precision is a relative width between 0 and 1, e.g. 0.005')
        if retries < 0:
            raise ValueError('retries must be 0 or more')
        self.driver = driver
        self.max_rate = float(max_rate)
        self.min_rate = float(min_rate) if min_rate is not None else self.max_rate / 1000
        self.duration = duration
        self.precision = precision
        self.retries = retries
        # Trials at a disputed rate: 2 + retries, one more if that is even,
        # so that a majority always exists.
        self.max_trials_at_rate = 2 + retries + (1 - retries % 2)
        self.time_budget = time_budget
        self.goals = [GoalResult(name, ratio) for name, ratio in goals]
        self.dut = dut
        self.clock = clock
        self.log = log or (lambda message: None)
        self.trials = []
        self.out_of_time = False
        self._start = None
        self._overhead = 0.0      # the most a trial took beyond its duration

    # --- trials ---------------------------------------------------------

    def _time_left(self):
        return self.time_budget - (self.clock() - self._start)

    def _measure(self, rate):
        """One trial, or None when the budget has no room for it (its
        duration plus the most any trial so far took beyond that: the DUT
        hook's reads, starting and stopping the traffic)."""
        if self._time_left() < self.duration + self._overhead:
            self.out_of_time = True
            return None
        began = self.clock()
        before = self.dut.snapshot() if self.dut else None
        sent, received = self.driver.trial(rate, self.duration)
        trial = Trial(rate, self.duration, sent, received)
        if self.dut:
            trial.dut = self.dut.breakdown(before, self.dut.snapshot(after_trial=True))
        self._overhead = max(self._overhead, self.clock() - began - self.duration)
        self.trials.append(trial)
        self.log('trial %.0f pps for %g s: sent %d, received %d, loss %.4f %%%s%s' % (
            rate, self.duration, sent, received, 100 * trial.loss_ratio,
            ', DUT: %s' % trial.dut if trial.dut else '',
            ', %d more received than sent: stray frames on the receiving port?' % trial.excess
            if trial.excess else ''))
        return trial

    def _at(self, rate):
        return [t for t in self.trials if t.rate == rate]

    def _passes(self, rate, goal):
        """Majority of the trials at `rate`; ties fail (a bound must be earned)."""
        trials = self._at(rate)
        good = sum(1 for t in trials if t.loss_ratio <= goal.loss_ratio)
        return good * 2 > len(trials)

    def _confirm(self, rate, goal):
        """Measure a bound again: a second trial, and while the trials at
        `rate` disagree on `goal`, more (max_trials_at_rate in all); then
        their majority stands. False when the budget ran out."""
        while True:
            trials = self._at(rate)
            if len(trials) >= self.max_trials_at_rate:
                return True
            verdicts = {t.loss_ratio <= goal.loss_ratio for t in trials}
            if len(trials) >= 2 and len(verdicts) == 1:
                return True
            if self._measure(rate) is None:
                return False

    # --- the search -----------------------------------------------------

    def _bounds_from_trials(self, goal):
        """The bounds every measured rate's majority verdict gives."""
        rates = sorted({t.rate for t in self.trials})
        passing = [r for r in rates if self._passes(r, goal)]
        failing = [r for r in rates if not self._passes(r, goal)]
        goal.upper = min(failing) if failing else None
        below = [r for r in passing if goal.upper is None or r < goal.upper]
        goal.lower = max(below) if below else 0.0

    def _verdict(self, goal):
        """The goal's status if its bounds are final, else None."""
        if goal.upper is None:
            return 'max_rate_passes'
        if goal.lower == 0.0 and goal.upper <= self.min_rate:
            return 'fails_at_min_rate'
        if goal.lower > 0 and goal.relative_width <= self.precision:
            return 'precision_reached'
        return None

    def run(self):
        self._start = self.clock()
        if self._measure(self.max_rate) is None:
            return self.result()
        for goal in self.goals:
            goal.status = 'out_of_time'
            while True:
                self._bounds_from_trials(goal)
                verdict = self._verdict(goal)
                if verdict is None:
                    if self._measure(self._next_rate(goal)) is None:
                        return self.result()
                    continue
                # Both bounds measured again before they are believed; if
                # that changes a verdict the bounds move and the search goes on.
                bounds = (goal.lower, goal.upper)
                for rate in bounds:
                    if rate and not self._confirm(rate, goal):
                        return self.result()
                self._bounds_from_trials(goal)
                if (goal.lower, goal.upper) == bounds:
                    goal.status = verdict
                    break
                goal.expansion = 0.0     # overturned: step up from the new lower bound afresh
        return self.result()

    def _next_rate(self, goal):
        if goal.lower == 0.0:
            # No passing rate yet: first what the device received at the
            # failing rate (its receive rate), then halve towards min_rate.
            failing = self._at(goal.upper)[-1]
            mrr = failing.received / failing.duration
            guess = mrr * (1 - goal.loss_ratio) if mrr < goal.upper else goal.upper / 2
            if self._at(guess) or guess >= goal.upper:
                guess = goal.upper / 2
            return max(self.min_rate, guess)
        # Just above the lower bound first, with steps growing fourfold while
        # they pass (the receive rate is often close to the answer); halving
        # once a step would pass the midpoint.
        goal.expansion = goal.expansion * 4 if goal.expansion else self.precision
        midpoint = (goal.lower + goal.upper) / 2
        return min(midpoint, goal.lower * (1 + goal.expansion))

    def result(self):
        # Bounds from every trial made, also for goals the budget cut short.
        for goal in self.goals:
            if self.trials:
                self._bounds_from_trials(goal)
            if goal.status == 'out_of_time' and not self.trials:
                goal.status = 'not_started'
        return {
            'goals': [{'name': g.name, 'loss_ratio': g.loss_ratio, 'lower_bound_pps': g.lower,
                       'upper_bound_pps': g.upper, 'relative_width': g.relative_width, 'status': g.status,
                       'precision_reached': g.precision_reached} for g in self.goals],
            'out_of_time': self.out_of_time,
            'trials': [{'rate_pps': t.rate, 'duration_s': t.duration, 'sent': t.sent, 'received': t.received,
                        'loss_ratio': t.loss_ratio, 'excess': t.excess, 'dut': t.dut} for t in self.trials],
            'settings': {'max_rate_pps': self.max_rate, 'min_rate_pps': self.min_rate,
                         'duration_s': self.duration, 'precision': self.precision, 'retries': self.retries,
                         'time_budget_s': self.time_budget},
        }
