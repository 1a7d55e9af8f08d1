"""fgrad.optim against optax: the optax names, argument orders and values, under fgrad.jit.

The reference numbers below were computed once with optax 0.2.8 (jax 0.10.2, float64 via
``jax_enable_x64``) and pinned here; optax is not needed to run these tests. Inputs: the
schedules at ``STEPS``; each optimizer over the four gradients ``GRADS`` from ``PARAMS``,
applying every update to the params before the next step. optax's step counts are int32,
which makes its schedules compute in float32; the references call every schedule with the
count as int64, so that they hold the float64 values fgrad's int64 counts give.
"""

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import optim
from fgrad.tree import tree_flatten, tree_leaves, tree_map

# XLA's and NumPy's cos/pow may differ in the last bits; everything else is the same
# arithmetic in the same order, so a few float64 ulps is all the difference allowed.
OPTAX_RTOL = 1e-14
OPTAX_ATOL = 1e-17

STEPS = [0, 1, 3, 5, 7, 10, 12, 15, 20, 30]
GRADS = [
    {"w": np.array([[0.5, -1.0], [2.0, 0.25]]), "b": np.array([0.1, -0.3])},
    {"w": np.array([[-0.2, 0.4], [1.5, -0.75]]), "b": np.array([0.0, 0.6])},
    {"w": np.array([[1.0, 1.0], [-1.0, 3.0]]), "b": np.array([-0.5, 0.2])},
    {"w": np.array([[0.3, -0.1], [0.0, 0.5]]), "b": np.array([0.8, -0.9])},
]
PARAMS = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.25, -0.5])}

SCHEDULES = {
    "polynomial": [
        1.0,
        1.0,
        1.0,
        0.6436000000000002,
        0.3664,
        0.09910000000000002,
        0.019899999999999994,
        0.01,
        0.01,
        0.01,
    ],
    "linear": [
        0.1,
        0.1,
        0.09100000000000001,
        0.073,
        0.05500000000000001,
        0.027999999999999997,
        0.01,
        0.01,
        0.01,
        0.01,
    ],
    "linear_zero_steps": [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    "piecewise": [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1],
    "exp": [
        1.0,
        0.8408964152537145,
        0.5946035575013605,
        0.42044820762685725,
        0.29730177875068026,
        0.1767766952966369,
        0.125,
        0.07432544468767006,
        0.03125,
        0.005524271728019903,
    ],
    "exp_stair_begin_end": [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.2, 0.2, 0.2],
    "exp_growth_end": [
        0.1,
        0.12457309396155175,
        0.19331820449317627,
        0.30000000000000004,
        0.46555367217460786,
        0.5,
        0.5,
        0.5,
        0.5,
        0.5,
    ],
    "cosine": [
        2.0,
        1.93918895951166,
        1.5113961030678926,
        0.9130814247407699,
        0.4472071435562327,
        0.20807713659400523,
        0.2,
        0.2,
        0.2,
        0.2,
    ],
    "warmup_cosine": [
        0.0,
        0.19999999999999996,
        0.6,
        1.0,
        0.976751845240198,
        0.8608757210636101,
        0.7406454873762848,
        0.525,
        0.18912427893638994,
        0.05,
    ],
    "warmup_exp": [
        0.010000000000000009,
        0.20799999999999996,
        0.604,
        1.0,
        1.0,
        0.7,
        0.5518614614173669,
        0.38630302299215685,
        0.3,
        0.3,
    ],
    "join": [1.0, 1.0, 1.0, 1.0, 0.8, 0.5, 0.25, 0.25, 0.25, 0.25],
}
UPDATES = {
    "sgd": [
        {"b": [-0.010000000000000002, 0.03], "w": [[-0.05, 0.1], [-0.2, -0.025]]},
        {
            "b": [-0.0, -0.06],
            "w": [
                [0.020000000000000004, -0.04000000000000001],
                [-0.15000000000000002, 0.07500000000000001],
            ],
        },
        {"b": [0.05, -0.020000000000000004], "w": [[-0.1, -0.1], [0.1, -0.30000000000000004]]},
        {
            "b": [-0.08000000000000002, 0.09000000000000001],
            "w": [[-0.03, 0.010000000000000002], [-0.0, -0.05]],
        },
    ],
    "sgd_momentum": [
        {"b": [-0.010000000000000002, 0.03], "w": [[-0.05, 0.1], [-0.2, -0.025]]},
        {
            "b": [-0.009000000000000001, -0.032999999999999995],
            "w": [[-0.025, 0.05], [-0.33, 0.052500000000000005]],
        },
        {
            "b": [0.0419, -0.0497],
            "w": [[-0.12250000000000001, -0.05500000000000001], [-0.19699999999999998, -0.25275]],
        },
        {
            "b": [-0.04229000000000001, 0.045270000000000005],
            "w": [[-0.14025, -0.03950000000000001], [-0.1773, -0.277475]],
        },
    ],
    "sgd_nesterov_schedule": [
        {
            "b": [-0.015000000000000003, 0.045],
            "w": [
                [-0.07500000000000001, 0.15000000000000002],
                [-0.30000000000000004, -0.037500000000000006],
            ],
        },
        {
            "b": [-0.0018750000000000004, -0.061875000000000006],
            "w": [
                [0.013125000000000003, -0.026250000000000006],
                [-0.20625000000000004, 0.07968750000000001],
            ],
        },
        {
            "b": [0.036875000000000005, -0.020625],
            "w": [[-0.075625, -0.07375000000000001], [0.043750000000000004, -0.2171875]],
        },
        {
            "b": [-0.027031250000000003, 0.03109375],
            "w": [[-0.017656250000000002, -0.0021874999999999998], [-0.0015625, -0.035546875]],
        },
    ],
    "adam_eps_root": [
        {
            "b": [-0.049997495187984825, 0.04999972055788893],
            "w": [
                [-0.04999989900030402, 0.04999997450001926],
                [-0.04999999350000124, -0.049999598004832016],
            ],
        },
        {
            "b": [-0.03349955650343269, -0.0183051353001165],
            "w": [
                [-0.017280232333247676, 0.017280277266504575],
                [-0.04912874593328809, 0.024709451703650995],
            ],
        },
        {
            "b": [0.026247363408716196, -0.022690316977941417],
            "w": [
                [-0.03445686452712384, -0.011959053805714425],
                [-0.023385592951338467, -0.026022582387102023],
            ],
        },
        {
            "b": [-0.012954632392290184, 0.01154123355048059],
            "w": [
                [-0.034713051211988324, -0.007799042837676099],
                [-0.019156053433312926, -0.02566989918875578],
            ],
        },
    ],
    "nadam": [
        {
            "b": [-0.07368420315789548, 0.07368420807017553],
            "w": [
                [-0.07368420905263161, 0.0736842097894737],
                [-0.07368421015789475, -0.07368420757894749],
            ],
        },
        {
            "b": [-0.021140211300598215, -0.04483263660763176],
            "w": [
                [0.002920433103069747, -0.002920433141423859],
                [-0.053331314082717546, 0.05089087095834002],
            ],
        },
        {
            "b": [0.04993682110141466, -0.025223366081401372],
            "w": [
                [-0.052565535274817055, -0.03022532896278518],
                [-0.004714620297762852, -0.04934302435105903],
            ],
        },
        {
            "b": [-0.034297541616756175, 0.03166777731827301],
            "w": [
                [-0.033661623003530684, -0.00392012356973506],
                [-0.014478258736598713, -0.024027085261715486],
            ],
        },
    ],
    "adamw_masked": [
        {
            "b": [-0.049999995000000505, 0.04999999833333339],
            "w": [
                [-0.05499999900000002, 0.05999999950000001],
                [-0.052499999750000005, -0.06499999800000009],
            ],
        },
        {
            "b": [-0.03350290796761471, -0.018305175965943055],
            "w": [
                [-0.022005291946744568, 0.026980292171187022],
                [-0.05136625379623795, 0.01003449121292578],
            ],
        },
        {
            "b": [0.026247514695626695, -0.022690386445093372],
            "w": [
                [-0.03907187811518936, -0.0023939635689647757],
                [-0.025366266524009157, -0.04074775890486897],
            ],
        },
        {
            "b": [-0.01295466114612101, 0.011541251293644155],
            "w": [
                [-0.03913271566667179, 0.0017780183302267619],
                [-0.02100989612222489, -0.04019133805689561],
            ],
        },
    ],
    "scale_by_adam_scale": [
        {
            "b": [-0.19999998000000202, 0.19999999333333357],
            "w": [
                [-0.19999999600000007, 0.19999999800000004],
                [-0.199999999, -0.19999999200000032],
            ],
        },
        {
            "b": [-0.12915254252466465, -0.08302664482027591],
            "w": [
                [-0.05950333920203541, 0.05950333999868107],
                [-0.19629898289772435, 0.10708764475161209],
            ],
        },
        {
            "b": [0.11580232733034362, -0.09962162088254524],
            "w": [
                [-0.14064839872365706, -0.06564043382065016],
                [-0.07978587084617192, -0.1117395260484173],
            ],
        },
        {
            "b": [-0.06069715928175066, 0.058369829677420854],
            "w": [
                [-0.14057161921545652, -0.041946708125885517],
                [-0.06264690745304323, -0.10760399137542564],
            ],
        },
    ],
    "decay_schedule": [
        {"b": [-0.0625, 0.175], "w": [[-0.3, 0.6], [-1.025, -0.275]]},
        {
            "b": [-0.0031250000000000006, -0.1445833333333333],
            "w": [[0.03833333333333333, -0.07666666666666666], [-0.36625, 0.14208333333333334]],
        },
        {
            "b": [0.08230902777777777, -0.030724537037037036],
            "w": [
                [-0.17076851851851851, -0.15846296296296294],
                [0.17161805555555554, -0.5159282407407407],
            ],
        },
        {"b": [-0.1, 0.1125], "w": [[-0.0375, 0.0125], [-0.0, -0.0625]]},
    ],
    "masked_momentum": [
        {"b": [0.1, -0.3], "w": [[-0.05, 0.1], [-0.2, -0.025]]},
        {"b": [0.0, 0.6], "w": [[-0.025, 0.05], [-0.33, 0.052500000000000005]]},
        {
            "b": [-0.5, 0.2],
            "w": [[-0.12250000000000001, -0.05500000000000001], [-0.19699999999999998, -0.25275]],
        },
        {"b": [0.8, -0.9], "w": [[-0.14025, -0.03950000000000001], [-0.1773, -0.277475]]},
    ],
    "multi_transform": [
        {
            "b": [-0.05, 0.15],
            "w": [
                [-0.09999999800000003, 0.09999999900000002],
                [-0.0999999995, -0.09999999600000016],
            ],
        },
        {
            "b": [-0.0, -0.3],
            "w": [
                [-0.03456058388348913, 0.03456058433737404],
                [-0.0982575075899759, 0.049418982445851564],
            ],
        },
        {
            "b": [0.25, -0.1],
            "w": [
                [-0.06891380913984617, -0.023918124221217682],
                [-0.046771195583480696, -0.05204517287760868],
            ],
        },
        {
            "b": [-0.4, 0.45],
            "w": [
                [-0.06942620302396293, -0.015598100058524253],
                [-0.038312117445152255, -0.05133980877071065],
            ],
        },
    ],
    "lion": [
        {
            "b": [-0.010002500000000001, 0.010005],
            "w": [[-0.01001, 0.01002], [-0.010005, -0.010029999999999999]],
        },
        {
            "b": [-0.010002399975000001, -0.00999510005],
            "w": [[0.0099901001, -0.009980100200000001], [-0.01000489995, 0.0099701003]],
        },
        {
            "b": [0.00999770004899975, -0.0099950000989995],
            "w": [
                [-0.010009999801001, -0.009980000398998],
                [0.0099952000989995, -0.010029999401003001],
            ],
        },
        {
            "b": [-0.01000239992800074, 0.010005099851001491],
            "w": [
                [-0.010009899701002991, 0.010020099401005992],
                [-0.01000489985300149, -0.01002989910100899],
            ],
        },
    ],
    "lion_masked_schedule": [
        {"b": [-0.02, 0.02], "w": [[-0.03, 0.04], [-0.025, -0.05]]},
        {
            "b": [-0.017071067811865476, -0.017071067811865476],
            "w": [
                [0.00879159992311072, -0.00034142135623730984],
                [-0.021125446417183526, -0.008108757210636103],
            ],
        },
        {
            "b": [0.01, -0.01],
            "w": [
                [-0.014893957999615553, -0.00019829289321881326],
                [0.0077306272320859185, -0.02470945621394682],
            ],
        },
        {
            "b": [-0.0029289321881345253, 0.0029289321881345253],
            "w": [
                [-0.004340527602882871, 0.005800076125725173],
                [-0.0036049373242837378, -0.007201046004804786],
            ],
        },
    ],
    "inject_adam": [
        {
            "b": [-0.09999999000000101, 0.09999999666666678],
            "w": [
                [-0.09999999800000003, 0.09999999900000002],
                [-0.0999999995, -0.09999999600000016],
            ],
        },
        {
            "b": [-0.03143482722887306, -0.02107868747593443],
            "w": [
                [-0.014592246528584303, 0.014592246720224595],
                [-0.04871521209637694, 0.02732425219889676],
            ],
        },
        {
            "b": [0.015167364462500822, -0.01237242399722395],
            "w": [
                [-0.01811955925159087, -0.008210938769534265],
                [-0.009756486188640279, -0.014636887327743105],
            ],
        },
        {
            "b": [-0.00402543941663154, 0.0037837954743179763],
            "w": [
                [-0.008852068103949399, -0.0025531916303216033],
                [-0.0037256749160269973, -0.006865238762989215],
            ],
        },
    ],
    "multisteps_mean": [
        {"b": [0.0, -0.0], "w": [[0.0, -0.0], [0.0, 0.0]]},
        {
            "b": [-0.099999980000004, -0.09999999333333379],
            "w": [
                [-0.09999999333333379, 0.09999999666666678],
                [-0.09999999942857143, 0.09999999600000016],
            ],
        },
        {"b": [-0.0, 0.0], "w": [[0.0, 0.0], [0.0, 0.0]]},
        {
            "b": [-0.09177810369078877, 0.04201853792603792],
            "w": [
                [-0.08756961045375485, -0.0247701809657674],
                [-0.043972804518219055, -0.06419511311803779],
            ],
        },
    ],
    "multisteps_sum": [
        {"b": [0.0, -0.0], "w": [[0.0, -0.0], [0.0, 0.0]]},
        {"b": [0.0, 0.0], "w": [[0.0, -0.0], [0.0, -0.0]]},
        {"b": [0.04000000000000001, -0.05], "w": [[-0.13, -0.04000000000000001], [-0.25, -0.25]]},
        {"b": [0.0, -0.0], "w": [[0.0, 0.0], [0.0, 0.0]]},
    ],
}
INJECT_CHANGED = [
    {
        "b": [-0.09999999000000101, 0.09999999666666678],
        "w": [[-0.09999999800000003, 0.09999999900000002], [-0.0999999995, -0.09999999600000016]],
    },
    {
        "b": [-0.06700581593522942, -0.03661035193188611],
        "w": [
            [-0.034560583883489135, 0.034560584337374044],
            [-0.0982575075899759, 0.049418982445851564],
        ],
    },
    {
        "b": [0.0050895721825857144, -0.014384764155619163],
        "w": [
            [-0.007431661284901779, -0.003323722109166942],
            [-0.011644091618410837, -0.00511622458933035],
        ],
    },
    {
        "b": [-0.002451846188357015, 0.0026483527514882207],
        "w": [
            [-0.007591979012660458, -0.002221424756138039],
            [-0.009806079838879253, -0.005176460817616496],
        ],
    },
]


# --------------------------------------------------------------------------- helpers


def assert_identical(eager, jitted):
    """Same pytree, and each leaf of the same type, dtype, shape and bits."""
    eager_leaves, eager_tree = tree_flatten(eager)
    jit_leaves, jit_tree = tree_flatten(jitted)
    assert eager_tree == jit_tree
    for e, j in zip(eager_leaves, jit_leaves):
        assert type(e) is type(j), (type(e), type(j))
        assert np.asarray(e).dtype == np.asarray(j).dtype
        np.testing.assert_array_equal(e, j, strict=True)


def run(opt, grads=GRADS, params=PARAMS):
    """The updates of ``opt`` over ``grads``, applied to ``params`` as they come."""
    state = opt.init(params)
    out = []
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append(updates)
    return out, state


def assert_close_to_optax(actual, expected):
    for got, want in zip(actual, expected, strict=True):
        assert sorted(got) == sorted(want)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=OPTAX_RTOL, atol=OPTAX_ATOL)


# --------------------------------------------------------------------------- schedules

SCHEDULE_MAKERS = {
    "polynomial": lambda: optim.polynomial_schedule(1.0, 0.01, 2, 10, 3),
    "linear": lambda: optim.linear_schedule(0.1, 0.01, 10, 2),
    "linear_zero_steps": lambda: optim.linear_schedule(0.1, 0.01, 0),
    "piecewise": lambda: optim.piecewise_constant_schedule(2.0, {5: 0.5, 12: 0.1}),
    "exp": lambda: optim.exponential_decay(1.0, 4, 0.5),
    "exp_stair_begin_end": lambda: optim.exponential_decay(
        1.0, 4, 0.5, transition_begin=3, staircase=True, end_value=0.2
    ),
    "exp_growth_end": lambda: optim.exponential_decay(0.1, 5, 3.0, end_value=0.5),
    "cosine": lambda: optim.cosine_decay_schedule(2.0, 12, alpha=0.1, exponent=2.0),
    "warmup_cosine": lambda: optim.warmup_cosine_decay_schedule(0.0, 1.0, 5, 25, end_value=0.05),
    "warmup_exp": lambda: optim.warmup_exponential_decay_schedule(
        0.01, 1.0, 5, 3, 0.7, transition_begin=2, staircase=False, end_value=0.3
    ),
    "join": lambda: optim.join_schedules(
        [
            optim.constant_schedule(1.0),
            optim.linear_schedule(1.0, 0.0, 10),
            optim.constant_schedule(0.25),
        ],
        [5, 12],
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_optax_on_ints_and_arrays(name):
    schedule = SCHEDULE_MAKERS[name]()
    on_ints = [schedule(t) for t in STEPS]
    assert all(type(v) is float for v in on_ints)
    np.testing.assert_allclose(on_ints, SCHEDULES[name], rtol=OPTAX_RTOL, atol=OPTAX_ATOL)
    on_counts = [schedule(np.array(t)) for t in STEPS]
    np.testing.assert_allclose(on_counts, SCHEDULES[name], rtol=OPTAX_RTOL, atol=OPTAX_ATOL)
    on_array = schedule(np.array(STEPS))
    np.testing.assert_allclose(on_array, SCHEDULES[name], rtol=OPTAX_RTOL, atol=OPTAX_ATOL)


def test_schedules_by_hand():
    exp = optim.exponential_decay(8.0, transition_steps=2, decay_rate=0.5, transition_begin=1)
    assert [exp(t) for t in (0, 1, 3, 5, 6)] == [8.0, 8.0, 4.0, 2.0, 8.0 * 0.5**2.5]
    stairs = optim.exponential_decay(8.0, 2, 0.5, staircase=True, end_value=1.5)
    assert [stairs(t) for t in (1, 2, 3, 4, 6, 100)] == [8.0, 4.0, 4.0, 2.0, 1.5, 1.5]
    poly = optim.polynomial_schedule(3.0, 1.0, power=3, transition_steps=4, transition_begin=2)
    assert [poly(t) for t in (0, 2, 4, 6, 9)] == [3.0, 3.0, 2.0 * 0.5**3 + 1.0, 1.0, 1.0]
    cos = optim.cosine_decay_schedule(2.0, 4, alpha=0.5, exponent=2.0)
    assert cos(2) == pytest.approx(2.0 * (0.5 * 0.5**2 + 0.5), rel=1e-15)
    warm = optim.warmup_cosine_decay_schedule(0.5, 1.0, warmup_steps=2, decay_steps=6)
    assert [warm(t) for t in (0, 1, 2)] == [0.5, 0.75, 1.0]
    assert warm(4) == pytest.approx(0.5, rel=1e-15)
    assert [warm(t) for t in (6, 50)] == [pytest.approx(0.0, abs=1e-16)] * 2
    assert optim.constant_schedule(5)(10**9) == 5
    assert optim.piecewise_constant_schedule(1.0)(10) == 1.0


def test_exponential_decay_takes_optax_order_and_the_old_name_warns():
    by_position = optim.exponential_decay(1.0, 10, 0.5)
    assert by_position(10) == 0.5 and by_position(20) == 0.25
    with pytest.warns(DeprecationWarning, match=r"exponential_decay\(init_value, transition_steps"):
        old = optim.exponential(1.0, 0.5, 10)
    assert old(20) == by_position(20)


@pytest.mark.parametrize(
    ("make", "exc", "message"),
    [
        (
            lambda: optim.cosine_decay_schedule(1.0, 0),
            ValueError,
            "decay_steps must be an int >= 1",
        ),
        (
            lambda: optim.warmup_cosine_decay_schedule(0.0, 1.0, 10, 10),
            ValueError,
            r"decay_steps \(10\) must be greater than warmup_steps \(10\)",
        ),
        (
            lambda: optim.join_schedules([optim.constant_schedule(1.0)] * 2, [1, 2]),
            ValueError,
            "one boundary fewer than schedules, got 2 schedules and 2 boundaries",
        ),
        (lambda: optim.join_schedules([1.0], []), TypeError, r"schedules\[0\] must be a callable"),
        (
            lambda: optim.piecewise_constant_schedule(1.0, {5: -0.5}),
            ValueError,
            r"boundaries_and_scales\[5\] must be finite and in \[0.0, inf\]",
        ),
        (lambda: optim.exponential_decay(1.0, 10, -0.5), ValueError, "decay_rate must be finite"),
        (
            lambda: optim.exponential_decay(1.0, 2.5, 0.5),
            TypeError,
            "transition_steps must be an int",
        ),
        (lambda: optim.linear_schedule("a", 0.0, 5), TypeError, "init_value must be a real number"),
        (lambda: optim.linear_schedule(1.0, 0.0, 5)("3"), TypeError, "step must be a real number"),
    ],
)
def test_schedule_errors(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


def test_jitted_schedules_replay_on_traced_steps():
    schedules = [maker() for _, maker in sorted(SCHEDULE_MAKERS.items())]

    def values(step):
        return [s(step) for s in schedules]

    jitted = fgrad.jit(values)
    for t in STEPS:
        # eager NumPy gives some 0-d results as NumPy scalars, jit as 0-d arrays: same bits
        eager = [np.asarray(v) for v in values(np.array(t))]
        assert_identical(eager, [np.asarray(v) for v in jitted(np.array(t))])
    assert (jitted.stats.traces, jitted.stats.guard_failures) == (1, 0)
    expected = [SCHEDULES[name] for name in sorted(SCHEDULE_MAKERS)]
    got = np.array([jitted(np.array(t)) for t in STEPS]).T
    np.testing.assert_allclose(got, expected, rtol=OPTAX_RTOL, atol=OPTAX_ATOL)


# --------------------------------------------------------------------------- optimizers

OPTIMIZER_MAKERS = {
    "sgd": lambda: optim.sgd(0.1),
    "sgd_momentum": lambda: optim.sgd(0.1, momentum=0.9),
    "sgd_nesterov_schedule": lambda: optim.sgd(
        optim.linear_schedule(0.1, 0.0, 4), momentum=0.5, nesterov=True
    ),
    "adam_eps_root": lambda: optim.adam(0.05, eps_root=1e-6),
    "nadam": lambda: optim.adam(0.05, nesterov=True),
    "adamw_masked": lambda: optim.adamw(0.05, weight_decay=0.1, mask={"w": True, "b": False}),
    "scale_by_adam_scale": lambda: optim.chain(
        optim.scale_by_adam(b1=0.8, b2=0.9), optim.scale(-0.2)
    ),
    "decay_schedule": lambda: optim.chain(
        optim.add_decayed_weights(optim.linear_schedule(0.1, 0.0, 3)),
        optim.scale_by_schedule(lambda c: -0.5 / (1 + c)),
    ),
    "masked_momentum": lambda: optim.masked(
        optim.sgd(0.1, momentum=0.9), lambda p: {"w": True, "b": False}
    ),
    "multi_transform": lambda: optim.multi_transform(
        {"a": optim.adam(0.1), "s": optim.sgd(0.5)}, {"w": "a", "b": "s"}
    ),
    "lion": lambda: optim.lion(0.01),
    "lion_masked_schedule": lambda: optim.lion(
        optim.cosine_decay_schedule(0.02, 4),
        b1=0.7,
        b2=0.95,
        weight_decay=0.5,
        mask={"w": True, "b": False},
    ),
    "inject_adam": lambda: optim.inject_hyperparams(optim.adam)(
        learning_rate=optim.exponential_decay(0.1, 1, 0.5), b1=0.8
    ),
    "multisteps_mean": lambda: optim.MultiSteps(
        optim.adam(0.1), every_k_schedule=2
    ).gradient_transformation(),
    "multisteps_sum": lambda: optim.MultiSteps(
        optim.sgd(0.1, momentum=0.5), every_k_schedule=lambda s: 3, use_grad_mean=False
    ).gradient_transformation(),
}


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_updates_match_optax(name):
    updates, _ = run(OPTIMIZER_MAKERS[name]())
    assert_close_to_optax(updates, UPDATES[name])


def test_injected_hyperparameters_change_between_steps_as_in_optax():
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.1)
    params, state = PARAMS, opt.init(PARAMS)
    assert set(state.hyperparams) == {"learning_rate", "b1", "b2", "eps", "eps_root"}
    out = []
    for i, g in enumerate(GRADS):
        if i == 2:
            changed = {**state.hyperparams, "b2": 0.9, "learning_rate": np.array(0.01)}
            state = state._replace(hyperparams=changed)
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append(updates)
    assert_close_to_optax(out, INJECT_CHANGED)
    assert float(state.hyperparams["b2"]) == 0.9


def test_sgd_without_momentum_keeps_no_buffer():
    state = optim.sgd(0.1).init(PARAMS)
    assert state.trace is None and tree_leaves(state) == [state.count]
    none, _ = run(optim.sgd(0.1))
    zero, _ = run(optim.sgd(0.1, momentum=0.0))
    for a, b in zip(none, zero):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_lion_by_hand():
    opt = optim.lion(0.1, b1=0.5, b2=0.75, weight_decay=0.25)
    p = np.array([2.0, -4.0])
    state = opt.init(p)
    u1, state = opt.update(np.array([1.0, -3.0]), state, p)
    np.testing.assert_array_equal(u1, [-0.1 * (1 + 0.5), -0.1 * (-1 - 1.0)])
    np.testing.assert_array_equal(state[0].mu, [0.25, -0.75])
    u2, state = opt.update(np.array([-0.2, 0.5]), state, p)
    # c = 0.5 * g + 0.5 * m = [0.025, -0.125]: signs [1, -1]
    np.testing.assert_array_equal(u2, [-0.1 * (1 + 0.5), -0.1 * (-1 - 1.0)])
    np.testing.assert_allclose(state[0].mu, [0.25 * -0.2 + 0.75 * 0.25, 0.25 * 0.5 + 0.75 * -0.75])


def test_multisteps_by_hand_and_has_updated():
    opt = optim.MultiSteps(optim.sgd(1.0, momentum=0.5), every_k_schedule=2)
    state = opt.init(np.zeros(1))
    seen = []
    for g in (1.0, 3.0, 5.0, 9.0):
        updates, state = opt.update(np.array([g]), state)
        seen.append((float(updates[0]), bool(opt.has_updated(state))))
    # means 2 then 7; the momentum trace is 2, then 7 + 0.5 * 2 = 8
    assert seen == [(0.0, False), (-2.0, True), (0.0, False), (-8.0, True)]
    assert int(state.gradient_step) == 2 and int(state.mini_step) == 0
    assert int(state.inner_opt_state.count) == 2


def test_multisteps_skips_non_finite_gradients():
    opt = optim.MultiSteps(optim.sgd(1.0), 2, should_skip_update_fn=optim.skip_not_finite)
    state = opt.init(np.zeros(2))
    updates, state = opt.update(np.array([1.0, 1.0]), state)
    before = state
    updates, state = opt.update(np.array([np.nan, 1.0]), state)
    np.testing.assert_array_equal(updates, [0.0, 0.0])
    assert int(state.skip_state["num_not_finite"]) == 1
    for field in ("mini_step", "gradient_step", "acc_grads"):
        np.testing.assert_array_equal(getattr(state, field), getattr(before, field))
    updates, state = opt.update(np.array([3.0, 5.0]), state)
    np.testing.assert_array_equal(updates, [-2.0, -3.0])
    bad = optim.MultiSteps(optim.sgd(1.0), 2, should_skip_update_fn=lambda u, s, p: (1, ()))
    with pytest.raises(ValueError, match="must return a 0-d bool first, got int64 of shape"):
        bad.update(np.ones(1), bad.init(np.ones(1)))


def test_multisteps_accumulates_in_the_params_dtype():
    state = optim.MultiSteps(optim.sgd(0.1), 2).init({"a": np.ones(2, np.float32), "b": np.ones(1)})
    assert state.acc_grads["a"].dtype == np.float32 and state.acc_grads["b"].dtype == np.float64
    state = optim.MultiSteps(optim.sgd(0.1), 2, accumulator_dtype=np.float32).init(np.ones(1))
    assert state.acc_grads.dtype == np.float32


# --------------------------------------------------------------------------- masks and labels


def test_masked_state_holds_only_masked_in_leaves():
    opt = optim.masked(optim.adam(0.1), {"w": True, "b": False})
    state = opt.init(PARAMS)
    assert isinstance(state.inner_state.mu["b"], optim.MaskedNode)
    assert state.inner_state.mu["w"].shape == (2, 2)
    updates, _ = opt.update(GRADS[0], state)
    np.testing.assert_array_equal(updates["b"], GRADS[0]["b"])
    assert updates["b"] is not GRADS[0]["b"] and not updates["b"].flags.writeable
    assert GRADS[0]["b"].flags.writeable


def test_a_prefix_mask_covers_whole_subtrees():
    params = {"layer": {"w": np.ones(2), "b": np.ones(1)}, "head": (np.ones(1),)}
    grads = tree_map(lambda x: 2 * x, params)
    opt = optim.masked(optim.scale(-1.0), {"layer": True, "head": False})
    updates, _ = opt.update(grads, opt.init(params))
    np.testing.assert_array_equal(updates["layer"]["w"], [-2.0, -2.0])
    np.testing.assert_array_equal(updates["head"][0], [2.0])


@pytest.mark.parametrize(
    ("make", "exc", "message"),
    [
        (
            lambda: optim.masked(optim.sgd(0.1), {"w": True}).init(PARAMS),
            ValueError,
            r"masked: the mask must have the structure of the params or a prefix of it; "
            r"structure mismatch at params: expected a dict with keys \['w'\]",
        ),
        (
            lambda: optim.masked(optim.sgd(0.1), {"w": True, "b": [True]}).init(PARAMS),
            ValueError,
            r"structure mismatch at params\['b'\]",
        ),
        (
            lambda: optim.masked(optim.sgd(0.1), {"w": True, "b": "no"}).init(PARAMS),
            TypeError,
            r"masked: mask\['b'\] must be a bool, got 'no'",
        ),
        (
            lambda: optim.adamw(0.1, mask={"w": 1, "b": True}).update(
                GRADS[0], optim.adamw(0.1).init(PARAMS), PARAMS
            ),
            TypeError,
            r"adamw: mask\['w'\] must be a bool, got 1",
        ),
        (
            lambda: optim.multi_transform({"a": optim.sgd(0.1)}, {"w": "a", "b": "z"}).init(PARAMS),
            ValueError,
            r"multi_transform: param_labels\['b'\] is 'z', which is not a key of transforms",
        ),
        (
            lambda: optim.multi_transform({"a": optim.sgd(0.1)}, {"w": "a"}).init(PARAMS),
            ValueError,
            "multi_transform: the param_labels must have the structure of the params",
        ),
        (
            lambda: optim.multi_transform({"a": optim.sgd}, {"w": "a"}),
            TypeError,
            r"multi_transform: transforms\['a'\] must be a GradientTransformation",
        ),
        (
            lambda: optim.add_decayed_weights(0.1).update(GRADS[0], optim.EmptyState()),
            ValueError,
            "add_decayed_weights.update needs the current params",
        ),
        (
            lambda: optim.lion(0.1).update(GRADS[0], optim.lion(0.1).init(PARAMS)),
            ValueError,
            "lion.update needs the current params",
        ),
        (
            lambda: optim.inject_hyperparams(optim.adam, static_args="lr"),
            ValueError,
            r"static_args \['lr'\] are not parameters of adam",
        ),
        (
            lambda: optim.inject_hyperparams(optim.adam)(0.1, bogus=1),
            TypeError,
            "inject_hyperparams\\(adam\\): got an unexpected keyword argument 'bogus'",
        ),
        (
            lambda: optim.MultiSteps(optim.sgd(0.1), 0),
            ValueError,
            "every_k_schedule must be an int >= 1",
        ),
        (lambda: optim.sgd(0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (
            lambda: optim.sgd(0.1).init({"a": "x"}),
            TypeError,
            r"sgd.init: params\['a'\] is a str \('x'\), not an array of numbers",
        ),
        (
            lambda: optim.adam(0.1, mu_dtype=np.int32),
            TypeError,
            "mu_dtype must be a NumPy float dtype",
        ),
    ],
)
def test_errors_name_what_and_where(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


# --------------------------------------------------------------------------- jit, purity, dtypes


JIT_OPTIMIZERS = {
    **{name: OPTIMIZER_MAKERS[name] for name in OPTIMIZER_MAKERS},
    "warmup_cosine_adamw": lambda: optim.adamw(
        optim.warmup_cosine_decay_schedule(0.0, 0.1, 2, 6), weight_decay=0.01
    ),
    "multisteps_skip": lambda: optim.MultiSteps(
        optim.lion(0.01), 2, should_skip_update_fn=optim.skip_not_finite
    ).gradient_transformation(),
    "inject_sgd": lambda: optim.inject_hyperparams(optim.sgd)(0.1, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("name", sorted(JIT_OPTIMIZERS))
def test_jitted_training_step_matches_eager_bit_for_bit_in_float32(name):
    opt = JIT_OPTIMIZERS[name]()
    params = tree_map(lambda p: p.astype(np.float32), PARAMS)

    def step(params, state, x):
        def loss(p):
            return fnp.mean(fnp.tanh(x @ p["w"] + p["b"]) ** 2)

        updates, state = opt.update(fgrad.grad(loss)(params), state, params)
        return optim.apply_updates(params, updates), state

    jitted = fgrad.jit(step)
    rng = np.random.default_rng(0)
    eager = jit = (params, opt.init(params))
    for _ in range(7):
        x = rng.standard_normal((3, 2)).astype(np.float32)
        eager = step(*eager, x)
        jit = jitted(*jit, x)
        assert_identical(eager, jit)
    assert (jitted.stats.traces, jitted.stats.guard_failures) == (1, 0)
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(jit[0]))
    floats = [leaf for leaf in tree_leaves(jit[1]) if np.asarray(leaf).dtype.kind == "f"]
    assert all(leaf.dtype == np.float32 for leaf in floats)


def test_a_hyperparameter_changed_between_jitted_steps_replays():
    opt = optim.inject_hyperparams(optim.adam)(learning_rate=0.1)

    def step(params, state, grads):
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    jitted = fgrad.jit(step)
    params = tree_map(lambda p: p.astype(np.float32), PARAMS)
    eager = jit = (params, opt.init(params))
    for i, g in enumerate(GRADS * 2):
        g = tree_map(lambda x: x.astype(np.float32), g)
        if i % 3 == 2:
            lr = np.float32(0.1 / (i + 1))
            eager = (
                eager[0],
                eager[1]._replace(hyperparams={**eager[1].hyperparams, "learning_rate": lr}),
            )
            jit = (jit[0], jit[1]._replace(hyperparams={**jit[1].hyperparams, "learning_rate": lr}))
        eager = step(*eager, g)
        jit = jitted(*jit, g)
        assert_identical(eager, jit)
    assert jitted.stats.traces <= 2 and jitted.stats.guard_failures == 0


def test_a_traced_learning_rate_argument_works_in_every_new_transformation():
    def step(params, grads, lr):
        outs = []
        for opt in (
            optim.lion(lr),
            optim.chain(optim.scale_by_adam(), optim.scale(-lr)),
            optim.sgd(lr, momentum=0.9),
            optim.add_decayed_weights(lr),
        ):
            outs.append(opt.update(grads, opt.init(params), params)[0])
        return outs

    jitted = fgrad.jit(step)
    params = tree_map(lambda p: p.astype(np.float32), PARAMS)
    grads = tree_map(lambda p: p.astype(np.float32), GRADS[0])
    for lr in (0.1, 0.05, np.float32(0.2), np.array(0.3)):
        assert_identical(step(params, grads, lr), jitted(params, grads, lr))


@pytest.mark.parametrize("name", sorted(OPTIMIZER_MAKERS))
def test_new_optimizers_are_pure_and_return_read_only_arrays(name):
    opt = OPTIMIZER_MAKERS[name]()
    snapshot = tree_map(np.copy, (PARAMS, GRADS[0]))
    state = opt.init(PARAMS)
    updates1, state1 = opt.update(GRADS[0], state, PARAMS)
    updates2, state2 = opt.update(GRADS[0], state, PARAMS)
    assert_identical(updates1, updates2)
    assert_identical(state1, state2)
    assert_identical((PARAMS, GRADS[0]), snapshot)
    for leaf in tree_leaves((updates1, state1)):
        assert isinstance(leaf, np.ndarray) and not leaf.flags.writeable, (type(leaf), leaf)
