"""Planning a day of on-site visits: a vehicle routing problem with time windows.

The module has two layers. :func:`solve_vrptw` is a generic core over integer
matrices (nodes, time windows, service times, optional capacities, vehicles
allowed per node, locked stops, droppable nodes); the Solomon benchmark in
``bench/visits.py`` runs it directly. :func:`plan_visits` turns visits and
technicians into that core's integers (minutes since the day's first instant),
explains beforehand why a visit cannot be planned at all, and turns the answer
back into routes of aware datetimes.

OR-Tools is imported inside :func:`solve_vrptw` only: it pulls in numpy and
pandas, which web processes that never plan a route should not load.

Times in the core are *start of service*: a node's window bounds when work
there starts, the transit from ``i`` to ``j`` is ``service[i] + travel[i][j]``,
and a vehicle leaves its start node no earlier than its shift starts and
reaches its end node no later than its shift ends. Schedules are recomputed
from the solver's order by :func:`schedule_route` (earliest start at every
stop), so reported times never depend on how the solver filled its slack.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from expediter.appointments.travel import Site, TravelFn, travel_matrix, travel_minutes
from expediter.core.wording import Wording, gettext_noop

if TYPE_CHECKING:
    from ortools.constraint_solver import pywrapcp
    from ortools.constraint_solver.routing_parameters_pb2 import RoutingSearchParameters

Window = tuple[int, int]

REASON_WINDOW_TOO_SHORT = Wording(gettext_noop("window too short for the duration"))
REASON_NO_TECHNICIAN = Wording(gettext_noop("no qualified technician on duty"))
REASON_NO_ROOM = Wording(gettext_noop("no room in any route"))

# Dropping a visit must always cost more than any detour that would fit it in.
VISIT_DROP_PENALTY = 10_000_000
DEFAULT_TIME_LIMIT_SECONDS = 10.0


class PlanningError(ValueError):
    """The input cannot be planned at all, e.g. locked stops that contradict each other.

    The message is a :class:`~expediter.core.wording.Wording`, so the service
    that shows it can say it in the reader's language.
    """

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(Wording(template, **values))


# --- The generic core ------------------------------------------------------------------------


@dataclass(frozen=True)
class VrptwProblem:
    """A routing problem in integers; nodes used as vehicle starts or ends are depots.

    ``travel`` is both the travel time and the arc cost. ``windows`` bound the
    start of service at each non-depot node; ``shifts`` bound each vehicle's
    departure and return. ``allowed`` restricts a node to some vehicles;
    ``locked`` pins a node to ``(vehicle, start)``. With a ``drop_penalty``,
    unlocked nodes may be left out at that cost; without one every node must be
    served. ``vehicle_fixed_cost`` is paid per vehicle used, so a high value
    minimises vehicles before distance.
    """

    travel: Sequence[Sequence[int]]
    windows: Sequence[Window]
    service: Sequence[int]
    starts: Sequence[int]
    ends: Sequence[int]
    shifts: Sequence[Window]
    demands: Sequence[int] | None = None
    capacities: Sequence[int] | None = None
    allowed: Mapping[int, Sequence[int]] = field(default_factory=dict)
    locked: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    drop_penalty: int | None = None
    vehicle_fixed_cost: int = 0

    def __post_init__(self) -> None:
        size = len(self.travel)
        if any(len(row) != size for row in self.travel):
            raise ValueError("the travel matrix must be square")
        if len(self.windows) != size or len(self.service) != size:
            raise ValueError("windows and service need one entry per node")
        if not (len(self.starts) == len(self.ends) == len(self.shifts)) or not self.starts:
            raise ValueError("starts, ends and shifts need one entry per vehicle, at least one")
        if (self.demands is None) != (self.capacities is None):
            raise ValueError("demands and capacities go together")

    @property
    def num_vehicles(self) -> int:
        return len(self.starts)

    @property
    def visit_nodes(self) -> list[int]:
        depots = {*self.starts, *self.ends}
        return [node for node in range(len(self.travel)) if node not in depots]

    def window_of(self, node: int) -> Window:
        """The start-of-service window; a locked node's is its locked instant."""
        if node in self.locked:
            start = self.locked[node][1]
            return (start, start)
        return self.windows[node]

    def locked_route(self, vehicle: int) -> list[int]:
        """The nodes locked to a vehicle, in the order of their locked starts."""
        mine = [(start, node) for node, (owner, start) in self.locked.items() if owner == vehicle]
        return [node for _start, node in sorted(mine)]

    def may_serve(self, vehicle: int, node: int) -> bool:
        if node in self.locked:
            return self.locked[node][0] == vehicle
        allowed = self.allowed.get(node)
        return allowed is None or vehicle in allowed


@dataclass(frozen=True)
class VrptwSolution:
    """Visit nodes per vehicle in order (depots left out), and the nodes left unserved."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]

    @property
    def vehicles_used(self) -> int:
        return sum(1 for route in self.routes if route)


def route_travel(problem: VrptwProblem, vehicle: int, route: Sequence[int]) -> int:
    """Travel of a route from its start depot back to its end depot; zero when unused."""
    if not route:
        return 0
    path = [problem.starts[vehicle], *route, problem.ends[vehicle]]
    return sum(problem.travel[a][b] for a, b in itertools.pairwise(path))


def schedule_route(problem: VrptwProblem, vehicle: int, route: Sequence[int]) -> list[int] | None:
    """Earliest start of service at each stop, or None if the order breaks a window or the shift.

    Waiting is allowed, so starting every stop as early as possible is feasible
    whenever any timing of the same order is.
    """
    shift_start, shift_end = problem.shifts[vehicle]
    here, ready = problem.starts[vehicle], shift_start
    starts: list[int] = []
    for node in route:
        earliest, latest = problem.window_of(node)
        start = max(ready + problem.travel[here][node], earliest)
        if start > latest:
            return None
        starts.append(start)
        here, ready = node, start + problem.service[node]
    if ready + problem.travel[here][problem.ends[vehicle]] > shift_end:
        return None
    return starts


def violations(problem: VrptwProblem, solution: VrptwSolution) -> list[str]:
    """Every rule a solution breaks, in words; empty when it is valid."""
    problems: list[str] = []
    for vehicle, route in enumerate(solution.routes):
        problems.extend(_route_violations(problem, vehicle, route))
    served = [node for route in solution.routes for node in route]
    seen = served + list(solution.dropped)
    for node in problem.visit_nodes:
        if seen.count(node) != 1:
            problems.append(f"node {node} appears {seen.count(node)} times")
        if node in solution.dropped and (problem.drop_penalty is None or node in problem.locked):
            problems.append(f"node {node} must be served but was dropped")
    return problems


def _route_violations(problem: VrptwProblem, vehicle: int, route: Sequence[int]) -> list[str]:
    found = [f"vehicle {vehicle} may not serve node {n}" for n in route]
    found = [
        text for n, text in zip(route, found, strict=True) if not problem.may_serve(vehicle, n)
    ]
    if schedule_route(problem, vehicle, route) is None:
        found.append(f"vehicle {vehicle} cannot keep the windows or its shift")
    if problem.demands is not None and problem.capacities is not None:
        load = sum(problem.demands[n] for n in route)
        if load > problem.capacities[vehicle]:
            found.append(f"vehicle {vehicle} carries {load} over {problem.capacities[vehicle]}")
    return found


def solve_vrptw(
    problem: VrptwProblem,
    *,
    time_limit_seconds: float,
    initial_routes: Sequence[Sequence[int]] | None = None,
) -> VrptwSolution:
    """Route the vehicles with OR-Tools: guided local search until the time limit.

    The search starts from ``initial_routes`` (visit nodes per vehicle, such
    as an earlier plan) when given, else from the cheapest-arc heuristic, and
    from the locked stops alone should that heuristic find nothing. Raises
    :class:`PlanningError` when no solution is found (only possible when some
    nodes are mandatory).
    """
    from ortools.constraint_solver import pywrapcp

    manager = pywrapcp.RoutingIndexManager(
        len(problem.travel), problem.num_vehicles, list(problem.starts), list(problem.ends)
    )
    routing = pywrapcp.RoutingModel(manager)
    _add_costs(routing, problem)
    _add_time(routing, manager, problem)
    _add_capacity(routing, problem)
    _add_node_rules(routing, manager, problem)
    parameters = _search_parameters(time_limit_seconds)
    if initial_routes is not None:
        assignment = _solve_from(routing, manager, initial_routes, parameters)
    else:
        assignment = routing.SolveWithParameters(parameters)
        if assignment is None and problem.locked:
            locked_routes = [problem.locked_route(v) for v in range(problem.num_vehicles)]
            assignment = _solve_from(routing, manager, locked_routes, parameters)
    if assignment is None:
        raise PlanningError(gettext_noop("no plan satisfies every mandatory stop"))
    return _read_solution(routing, manager, problem, assignment)


def _add_costs(routing: pywrapcp.RoutingModel, problem: VrptwProblem) -> None:
    callback = routing.RegisterTransitMatrix([list(row) for row in problem.travel])
    routing.SetArcCostEvaluatorOfAllVehicles(callback)
    if problem.vehicle_fixed_cost:
        routing.SetFixedCostOfAllVehicles(problem.vehicle_fixed_cost)


def _add_time(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, problem: VrptwProblem
) -> None:
    size = len(problem.travel)
    transit = [
        [problem.service[i] + problem.travel[i][j] for j in range(size)] for i in range(size)
    ]
    horizon = max(
        [end for _, end in problem.shifts] + [problem.window_of(n)[1] for n in problem.visit_nodes]
    )
    callback = routing.RegisterTransitMatrix(transit)
    routing.AddDimension(callback, horizon, horizon, False, "Time")
    time = routing.GetDimensionOrDie("Time")
    for node in problem.visit_nodes:
        earliest, latest = problem.window_of(node)
        time.CumulVar(manager.NodeToIndex(node)).SetRange(earliest, latest)
    for vehicle, (shift_start, shift_end) in enumerate(problem.shifts):
        time.CumulVar(routing.Start(vehicle)).SetRange(shift_start, shift_end)
        time.CumulVar(routing.End(vehicle)).SetRange(shift_start, shift_end)


def _add_capacity(routing: pywrapcp.RoutingModel, problem: VrptwProblem) -> None:
    if problem.demands is None or problem.capacities is None:
        return
    callback = routing.RegisterUnaryTransitVector(list(problem.demands))
    routing.AddDimensionWithVehicleCapacity(callback, 0, list(problem.capacities), True, "Capacity")


def _add_node_rules(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, problem: VrptwProblem
) -> None:
    for node in problem.visit_nodes:
        index = manager.NodeToIndex(node)
        if node in problem.locked:
            routing.VehicleVar(index).SetValue(problem.locked[node][0])
            continue
        allowed = problem.allowed.get(node)
        if allowed is not None:
            routing.VehicleVar(index).SetValues([-1, *allowed])
        if problem.drop_penalty is not None:
            routing.AddDisjunction([index], problem.drop_penalty)


def _search_parameters(time_limit_seconds: float) -> RoutingSearchParameters:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_seconds * 1000)))
    return parameters


def _solve_from(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    routes: Sequence[Sequence[int]],
    parameters: RoutingSearchParameters,
) -> pywrapcp.Assignment | None:
    indices = [[manager.NodeToIndex(node) for node in route] for route in routes]
    initial = routing.ReadAssignmentFromRoutes(indices, True)
    if initial is None:
        return None
    return routing.SolveFromAssignmentWithParameters(initial, parameters)


def _read_solution(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: VrptwProblem,
    assignment: pywrapcp.Assignment,
) -> VrptwSolution:
    routes: list[tuple[int, ...]] = []
    for vehicle in range(problem.num_vehicles):
        nodes: list[int] = []
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        while not routing.IsEnd(index):
            nodes.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(nodes))
    served = {node for route in routes for node in route}
    dropped = tuple(node for node in problem.visit_nodes if node not in served)
    return VrptwSolution(routes=tuple(routes), dropped=dropped)


# --- Visits and technicians ------------------------------------------------------------------


@dataclass(frozen=True)
class Technician:
    """Someone on duty that day who can go on site; the day starts and ends at ``home``."""

    id: int
    name: str
    shift_start: dt.datetime
    shift_end: dt.datetime
    home: Site | None = None
    skills: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.shift_end <= self.shift_start:
            raise ValueError(f"technician {self.id}: the shift ends before it starts")

    def qualifies_for(self, visit: Visit) -> bool:
        return all(self.skills.get(skill, 0) >= level for skill, level in visit.skills.items())


@dataclass(frozen=True)
class Lock:
    """An already booked visit: the planner keeps its technician and start exactly.

    Starts are expected on whole minutes, as bookings are; the planner works in minutes.
    """

    technician_id: int
    start: dt.datetime


@dataclass(frozen=True)
class Visit:
    """Work at a site that must start and end inside ``[window_start, window_end]``.

    ``site=None`` is a place that cannot be located (a commitment kept in the
    day as a locked stop, for a technician without a home site): trips to and
    from it count as zero, as they do for such a technician's home, so callers
    should check the plan against the agent's diary before booking it.
    """

    id: int
    site: Site | None
    window_start: dt.datetime
    window_end: dt.datetime
    duration_minutes: int
    skills: Mapping[str, int] = field(default_factory=dict)
    ticket_id: int | None = None
    lock: Lock | None = None

    def __post_init__(self) -> None:
        if self.duration_minutes <= 0:
            raise ValueError(f"visit {self.id}: duration_minutes must be positive")


@dataclass(frozen=True)
class PlannedStop:
    """A visit in a route; ``travel_minutes`` is the trip from the previous place."""

    visit_id: int
    ticket_id: int | None
    site: Site | None
    start: dt.datetime
    end: dt.datetime
    travel_minutes: int
    locked: bool


@dataclass(frozen=True)
class Route:
    """One technician's day: leave home, the stops in order, back home."""

    technician_id: int
    technician_name: str
    stops: tuple[PlannedStop, ...]
    travel_minutes: int
    leave_home: dt.datetime | None
    back_home: dt.datetime | None


@dataclass(frozen=True)
class UnplannedVisit:
    """A visit left out, with one of the ``REASON_*`` sentences for the dispatcher."""

    visit_id: int
    reason: str


@dataclass(frozen=True)
class Plan:
    """One route per technician on duty (empty when idle) and the visits left out."""

    routes: tuple[Route, ...]
    unplanned: tuple[UnplannedVisit, ...]

    @property
    def travel_minutes(self) -> int:
        return sum(route.travel_minutes for route in self.routes)


@dataclass(frozen=True)
class _Clock:
    """Whole minutes since the day's first instant; starts round up and ends down, to be safe."""

    origin: dt.datetime

    def start(self, moment: dt.datetime) -> int:
        return math.ceil((moment - self.origin) / dt.timedelta(minutes=1))

    def end(self, moment: dt.datetime) -> int:
        return math.floor((moment - self.origin) / dt.timedelta(minutes=1))

    def at(self, minutes: int) -> dt.datetime:
        return self.origin + dt.timedelta(minutes=minutes)


@dataclass(frozen=True)
class _Day:
    """The visits kept for the solver and the integer problem built from them."""

    visits: tuple[Visit, ...]
    technicians: tuple[Technician, ...]
    problem: VrptwProblem
    clock: _Clock


def plan_visits(
    visits: Sequence[Visit],
    technicians: Sequence[Technician],
    *,
    travel: TravelFn = travel_minutes,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
) -> Plan:
    """Assign the day's visits to qualified technicians and order each route.

    Minimises total travel. Locked visits keep their technician and start,
    whatever their window or the technician's skills (a person decided), and
    :class:`PlanningError` says so when locked visits contradict each other or a
    shift. Every other visit is planned or listed with the reason it was not.
    """
    _check_lock_owners(visits, technicians)
    clock = _Clock(_origin(visits, technicians))
    unplanned: list[UnplannedVisit] = []
    candidates: list[Visit] = []
    for visit in visits:
        reason = None if visit.lock else _rejection(visit, technicians, clock, travel)
        if reason is None:
            candidates.append(visit)
        else:
            unplanned.append(UnplannedVisit(visit.id, reason))
    if not technicians:
        return Plan(routes=(), unplanned=tuple(unplanned))
    day = _build_day(candidates, technicians, clock, travel)
    _check_locks(day)
    solution = _solve_day(day, time_limit_seconds)
    unplanned.extend(UnplannedVisit(day.visits[n].id, REASON_NO_ROOM) for n in solution.dropped)
    routes = tuple(_route(day, vehicle, nodes) for vehicle, nodes in enumerate(solution.routes))
    return Plan(routes=routes, unplanned=tuple(sorted(unplanned, key=lambda u: u.visit_id)))


def _origin(visits: Sequence[Visit], technicians: Sequence[Technician]) -> dt.datetime:
    moments = [t.shift_start for t in technicians] + [v.window_start for v in visits]
    moments += [v.lock.start for v in visits if v.lock]
    if not moments:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    earliest = min(moment.astimezone(dt.UTC) for moment in moments)
    return earliest.replace(second=0, microsecond=0)


def _rejection(
    visit: Visit, technicians: Sequence[Technician], clock: _Clock, travel: TravelFn
) -> str | None:
    """Why a visit cannot be planned whatever the others do, or None.

    A qualified technician whose shift cannot hold the visit inside its window,
    with the trips from and back home, is not "on duty" for it.
    """
    if clock.end(visit.window_end) - clock.start(visit.window_start) < visit.duration_minutes:
        return REASON_WINDOW_TOO_SHORT
    if not _able_technicians(visit, technicians, clock, travel):
        return REASON_NO_TECHNICIAN
    return None


def _able_technicians(
    visit: Visit, technicians: Sequence[Technician], clock: _Clock, travel: TravelFn
) -> list[int]:
    """Positions of the qualified technicians whose shift could hold this visit alone."""
    return [
        position
        for position, technician in enumerate(technicians)
        if technician.qualifies_for(visit) and _fits_alone(visit, technician, clock, travel)
    ]


def _fits_alone(visit: Visit, technician: Technician, clock: _Clock, travel: TravelFn) -> bool:
    trip_in = _trip(travel, technician.home, visit.site)
    trip_out = _trip(travel, visit.site, technician.home)
    earliest = max(clock.start(visit.window_start), clock.start(technician.shift_start) + trip_in)
    latest_end = min(clock.end(visit.window_end), clock.end(technician.shift_end) - trip_out)
    return earliest + visit.duration_minutes <= latest_end


def _trip(travel: TravelFn, origin: Site | None, destination: Site | None) -> int:
    if origin is None or destination is None or origin.id == destination.id:
        return 0
    return travel(origin, destination)


def _build_day(
    visits: Sequence[Visit], technicians: Sequence[Technician], clock: _Clock, travel: TravelFn
) -> _Day:
    """Nodes are the visits, then one home node per technician (start and end of its day)."""
    sites: list[Site | None] = [*(v.site for v in visits), *(t.home for t in technicians)]
    home_nodes = [len(visits) + position for position in range(len(technicians))]
    shifts = [(clock.start(t.shift_start), clock.end(t.shift_end)) for t in technicians]
    problem = VrptwProblem(
        travel=travel_matrix(sites, travel),
        windows=[_window(v, clock) for v in visits] + shifts,
        service=[v.duration_minutes for v in visits] + [0] * len(technicians),
        starts=home_nodes,
        ends=home_nodes,
        shifts=shifts,
        allowed={
            node: _able_technicians(visit, technicians, clock, travel)
            for node, visit in enumerate(visits)
            if visit.lock is None
        },
        locked=_locked_nodes(visits, technicians, clock),
        drop_penalty=VISIT_DROP_PENALTY,
    )
    return _Day(tuple(visits), tuple(technicians), problem, clock)


def _window(visit: Visit, clock: _Clock) -> Window:
    return (clock.start(visit.window_start), clock.end(visit.window_end) - visit.duration_minutes)


def _locked_nodes(
    visits: Sequence[Visit], technicians: Sequence[Technician], clock: _Clock
) -> dict[int, tuple[int, int]]:
    position_of = {technician.id: position for position, technician in enumerate(technicians)}
    return {
        node: (position_of[visit.lock.technician_id], clock.start(visit.lock.start))
        for node, visit in enumerate(visits)
        if visit.lock is not None
    }


def _check_lock_owners(visits: Sequence[Visit], technicians: Sequence[Technician]) -> None:
    on_duty = {technician.id for technician in technicians}
    for visit in visits:
        if visit.lock is not None and visit.lock.technician_id not in on_duty:
            raise PlanningError(
                gettext_noop(
                    "visit %(visit)s is locked to technician %(technician)s, "
                    "who is not on duty that day"
                ),
                visit=visit.id,
                technician=visit.lock.technician_id,
            )


def _check_locks(day: _Day) -> None:
    """Locked stops alone must make a valid day, or no plan can keep them."""
    for vehicle, technician in enumerate(day.technicians):
        route = day.problem.locked_route(vehicle)
        if route and schedule_route(day.problem, vehicle, route) is None:
            names = ", ".join(str(day.visits[node].id) for node in route)
            raise PlanningError(
                gettext_noop(
                    "the locked visits of %(technician)s (%(visits)s) cannot all be kept: "
                    "they overlap, leave no time to travel, or fall outside the shift"
                ),
                technician=technician.name,
                visits=names,
            )


def _solve_day(day: _Day, time_limit_seconds: float) -> VrptwSolution:
    problem = day.problem
    if not day.visits:
        return VrptwSolution(routes=tuple(() for _ in day.technicians), dropped=())
    if all(node in problem.locked for node in problem.visit_nodes):
        routes = tuple(tuple(problem.locked_route(v)) for v in range(problem.num_vehicles))
        return VrptwSolution(routes=routes, dropped=())
    return solve_vrptw(problem, time_limit_seconds=time_limit_seconds)


def _route(day: _Day, vehicle: int, nodes: Sequence[int]) -> Route:
    technician = day.technicians[vehicle]
    problem = day.problem
    starts = schedule_route(problem, vehicle, nodes)
    if starts is None:
        raise PlanningError(
            gettext_noop("the route found for %(technician)s breaks a window or the shift"),
            technician=technician.name,
        )
    stops: list[PlannedStop] = []
    here = problem.starts[vehicle]
    for node, start in zip(nodes, starts, strict=True):
        stops.append(_stop(day, node, start, problem.travel[here][node]))
        here = node
    if not stops:
        return Route(technician.id, technician.name, (), 0, None, None)
    back = problem.travel[here][problem.ends[vehicle]]
    return Route(
        technician_id=technician.id,
        technician_name=technician.name,
        stops=tuple(stops),
        travel_minutes=route_travel(problem, vehicle, nodes),
        leave_home=stops[0].start - dt.timedelta(minutes=stops[0].travel_minutes),
        back_home=stops[-1].end + dt.timedelta(minutes=back),
    )


def _stop(day: _Day, node: int, start: int, travel: int) -> PlannedStop:
    visit = day.visits[node]
    begins = visit.lock.start.astimezone(dt.UTC) if visit.lock else day.clock.at(start)
    return PlannedStop(
        visit_id=visit.id,
        ticket_id=visit.ticket_id,
        site=visit.site,
        start=begins,
        end=begins + dt.timedelta(minutes=visit.duration_minutes),
        travel_minutes=travel,
        locked=visit.lock is not None,
    )
