// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TestAggregator: a settable price feed for inflow's tests and local devnet.
/// @notice Answers the read side of Chainlink's AggregatorV3Interface (decimals, description,
///         version, latestRoundData, getRoundData), so the price source reads it exactly as it
///         reads a real feed. Test prices only: the deployer sets every round by hand, and
///         `setRoundData` backdates one to make a stale feed on purpose.
contract TestAggregator {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 1;
    address public immutable owner;
    uint80 public latestRound;
    mapping(uint80 => Round) private rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    modifier onlyOwner() {
        require(msg.sender == owner, "only owner");
        _;
    }

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        owner = msg.sender;
        _record(initialAnswer, block.timestamp);
    }

    /// @notice A new round with `answer`, updated now.
    function updateAnswer(int256 answer) external onlyOwner {
        _record(answer, block.timestamp);
    }

    /// @notice A new round with `answer` and an explicit `updatedAt` (in the past for a stale feed).
    function setRoundData(int256 answer, uint256 updatedAt) external onlyOwner {
        _record(answer, updatedAt);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(latestRound);
    }

    function getRoundData(uint80 roundId_)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        require(roundId_ != 0 && roundId_ <= latestRound, "no such round");
        return _round(roundId_);
    }

    function _round(uint80 id) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage round = rounds[id];
        return (id, round.answer, round.startedAt, round.updatedAt, id);
    }

    function _record(int256 answer, uint256 updatedAt) private {
        uint80 id = latestRound + 1;
        latestRound = id;
        rounds[id] = Round(answer, updatedAt, updatedAt);
        emit NewRound(id, msg.sender, updatedAt);
        emit AnswerUpdated(answer, id, updatedAt);
    }
}
