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
  a rate's trials disagree it gets up to `retries` more, and the majority of
  its trials decides (a tie fails: a lower bound must be earned). If that
  overturns a bound, the search goes on from the corrected bounds. No bound
  rests on a single trial.
- The search stops when every goal is within precision, or before a trial
  would overrun `time_budget` seconds; then the report says which goals did
  not reach their precision and gives the bounds it has.
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
    upper: float = None           # lowest rate that fails (None: max_rate passed)
    precision_reached: bool = False
    expansion: float = 0.0        # relative step above lower while probes pass (0: not started)

    @property
    def relative_width(self):
        if self.upper is None:
            return 0.0
        return (self.upper - self.lower) / self.upper


class Search:
    def __init__(self, driver, max_rate, min_rate=None, duration=10.0, precision=0.005, retries=2,
                 time_budget=600.0, goals=GOALS, dut=None, clock=time.monotonic, log=None):
        if max_rate <= 0:
            raise ValueError('max_rate must be positive')
        if not 0 < precision < 1:
            raise ValueError('precision is a relative width between 0 and 1, e.g. 0.005')
        self.driver = driver
        self.max_rate = float(max_rate)
        self.min_rate = float(min_rate) if min_rate else self.max_rate / 1000
        self.duration = duration
        self.precision = precision
        self.retries = retries
        self.time_budget = time_budget
        self.goals = [GoalResult(name, ratio) for name, ratio in goals]
        self.dut = dut
        self.clock = clock
        self.log = log or (lambda message: None)
        self.trials = []
        self.out_of_time = False
        self._start = None

    # --- trials ---------------------------------------------------------

    def _time_left(self):
        return self.time_budget - (self.clock() - self._start)

    def _measure(self, rate):
        """One trial, or None when the budget has no room for it."""
        if self._time_left() < self.duration:
            self.out_of_time = True
            return None
        before = self.dut.snapshot() if self.dut else None
        sent, received = self.driver.trial(rate, self.duration)
        trial = Trial(rate, self.duration, sent, received)
        if self.dut:
            trial.dut = self.dut.breakdown(before, self.dut.snapshot(after_trial=True))
        self.trials.append(trial)
        self.log('trial %.0f pps for %g s: sent %d, received %d, loss %.4f %%%s' % (
            rate, self.duration, sent, received, 100 * trial.loss_ratio,
            ', DUT: %s' % trial.dut if trial.dut else ''))
        return trial

    def _at(self, rate):
        return [t for t in self.trials if t.rate == rate]

    def _passes(self, rate, goal):
        """Majority of the trials at `rate`; ties fail (a bound must be earned)."""
        trials = self._at(rate)
        good = sum(1 for t in trials if t.loss_ratio <= goal.loss_ratio)
        return good * 2 > len(trials)

    def _confirm(self, rate):
        """Measure a bound again: a second trial, and while the trials at
        `rate` disagree, more (at most 2 + retries in all); then their
        majority stands. False when the budget ran out."""
        while True:
            trials = self._at(rate)
            if len(trials) >= 2 + self.retries:
                return True
            if len(trials) >= 2 and self._unanimous(rate):
                return True
            if self._measure(rate) is None:
                return False

    def _unanimous(self, rate):
        trials = self._at(rate)
        return all(self._verdicts(t) == self._verdicts(trials[0]) for t in trials)

    def _verdicts(self, trial):
        return tuple(trial.loss_ratio <= g.loss_ratio for g in self.goals)

    # --- the search -----------------------------------------------------

    def _bounds_from_trials(self, goal):
        """The bounds every measured rate's majority verdict gives."""
        rates = sorted({t.rate for t in self.trials})
        passing = [r for r in rates if self._passes(r, goal)]
        failing = [r for r in rates if not self._passes(r, goal)]
        goal.upper = min(failing) if failing else None
        below = [r for r in passing if goal.upper is None or r < goal.upper]
        goal.lower = max(below) if below else 0.0

    def _done(self, goal):
        if goal.upper is None:
            return True                                # max_rate passes
        if goal.lower == 0.0 and goal.upper <= self.min_rate:
            return True                                # fails even at min_rate
        return goal.lower > 0 and goal.relative_width <= self.precision

    def run(self):
        self._start = self.clock()
        if self._measure(self.max_rate) is None:
            return self.result()
        for goal in self.goals:
            while True:
                self._bounds_from_trials(goal)
                if not self._done(goal):
                    if self._measure(self._next_rate(goal)) is None:
                        return self.result()
                    continue
                # Both bounds measured again before they are believed; if
                # that changes a verdict the bounds move and the search goes on.
                bounds = (goal.lower, goal.upper)
                for rate in bounds:
                    if rate and not self._confirm(rate):
                        return self.result()
                self._bounds_from_trials(goal)
                if (goal.lower, goal.upper) == bounds:
                    break
            goal.precision_reached = True
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
        return {
            'goals': [{'name': g.name, 'loss_ratio': g.loss_ratio, 'lower_bound_pps': g.lower,
                       'upper_bound_pps': g.upper, 'relative_width': g.relative_width,
                       'precision_reached': g.precision_reached} for g in self.goals],
            'out_of_time': self.out_of_time,
            'trials': [{'rate_pps': t.rate, 'duration_s': t.duration, 'sent': t.sent, 'received': t.received,
                        'loss_ratio': t.loss_ratio, 'dut': t.dut} for t in self.trials],
            'settings': {'max_rate_pps': self.max_rate, 'min_rate_pps': self.min_rate,
                         'duration_s': self.duration, 'precision': self.precision, 'retries': self.retries,
                         'time_budget_s': self.time_budget},
        }
