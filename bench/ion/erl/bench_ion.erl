%% Erlang/OTP side of the IonVM benchmarks, run with one scheduler:
%%   erl +S 1 -noshell -pa DIR -eval 'bench_ion:main(["NAME", "N"])'
%% Each program prints "NAME=RESULT"; the runner checks RESULT.
-module(bench_ion).
-export([main/1]).

main([Name, NStr]) ->
    N = list_to_integer(NStr),
    Result = run(list_to_atom(Name), N),
    io:format("~s=~s~n", [Name, Result]),
    halt(0).

run(fib, N) -> integer_to_list(fib(N));
run(fma, N) -> float_to_list(fma(N, 0.0, 0.0), [{decimals, 0}]);
run(proto, N) ->
    Base = #{x => 3.0},
    P2 = #{'__proto' => Base},
    P1 = #{'__proto' => P2},
    Obj = #{'__proto' => P1},
    float_to_list(proto_loop(N, Obj, 0.0), [{decimals, 0}]);
run(strbuild, N) -> integer_to_list(byte_size(iolist_to_binary(pieces(N, [])))) ;
run(spawn, N) -> integer_to_list(spawn_many(N));
run(ring, N) -> integer_to_list(ring(1000, N));
run(pingpong, N) -> integer_to_list(pingpong(N));
run(timeout, N) -> integer_to_list(timeouts(N));
run(idle, N) -> integer_to_list(idle(N)).

fib(K) when K < 2 -> K;
fib(K) -> fib(K - 1) + fib(K - 2).

%% s accumulates x * 0.5 for x = 0.0, 1.0, ..., N-1 (floats throughout).
fma(0, S, _X) -> S;
fma(N, S, X) -> fma(N - 1, S + X * 0.5, X + 1.0).

%% Property lookup through a chain of maps, like a prototype chain.
get(Key, Obj) ->
    case Obj of
        #{Key := V} -> V;
        #{'__proto' := Proto} -> get(Key, Proto)
    end.

proto_loop(0, _Obj, Sum) -> Sum;
proto_loop(N, Obj, Sum) -> proto_loop(N - 1, Obj, Sum + get(x, Obj)).

pieces(0, Acc) -> Acc;
pieces(N, Acc) -> pieces(N - 1, [<<"ab">> | Acc]).

spawn_many(N) ->
    Parent = self(),
    [spawn(fun() -> Parent ! 1 end) || _ <- lists:seq(1, N)],
    collect(N, 0).

collect(0, Sum) -> Sum;
collect(N, Sum) -> receive V -> collect(N - 1, Sum + V) end.

%% Size processes in a ring; the token is a hop counter forwarded until it
%% reaches Hops, then a stop goes round.
ring(Size, Hops) ->
    Parent = self(),
    First = spawn(fun() -> receive {next, Nx} -> node(Nx, Parent, Hops) end end),
    Last = lists:foldl(fun(_, Next) -> spawn(fun() -> node(Next, Parent, Hops) end) end,
                       First, lists:seq(2, Size)),
    First ! {next, Last},
    First ! 0,
    receive {done, V} -> V end.

node(Next, Parent, Hops) ->
    receive
        stop -> Next ! stop;
        M when is_integer(M), M >= Hops -> Parent ! {done, M}, Next ! stop, drain_stop();
        M -> Next ! M + 1, node(Next, Parent, Hops)
    end.

drain_stop() -> receive stop -> ok after 0 -> ok end.

%% N messages in total: N div 2 round trips.
pingpong(N) ->
    Pong = spawn(fun pong/0),
    ping(N div 2, Pong, 0).

ping(0, Pong, Msgs) -> Pong ! stop, Msgs;
ping(K, Pong, Msgs) ->
    Pong ! {self(), K},
    receive K -> ok end,
    ping(K - 1, Pong, Msgs + 2).

pong() ->
    receive
        stop -> ok;
        {From, K} -> From ! K, pong()
    end.

timeouts(N) ->
    Parent = self(),
    [spawn(fun() -> receive _ -> ok after 10 -> Parent ! 1 end end) || _ <- lists:seq(1, N)],
    collect(N, 0).

%% N processes blocked in receive at the same time; the runner compares peak
%% RSS against N = 0 to get the cost of one idle process.
idle(N) ->
    Parent = self(),
    Pids = [spawn(fun() -> receive stop -> Parent ! 1 end end) || _ <- lists:seq(1, N)],
    receive after 50 -> ok end,
    [P ! stop || P <- Pids],
    collect(N, 0).
