// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20Like {
    function balanceOf(address owner) external view returns (uint256);
    function allowance(address owner, address spender) external view returns (uint256);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title ConditionalPayer: a payment that succeeds whatever the payer still holds.
/// @notice Test money only (inflow's chain-fault suite, test/chain-chaos). A payment through it
///         that a reorg drops and the chain re-mines after the payer was partly drained still
///         succeeds (status 1) but moves less, or nothing: what a gateway must not credit in full.
contract ConditionalPayer {
    /// @notice Pays `to` the least of `amount`, the caller's balance and the caller's allowance to
    ///         this contract, in `token`, from the caller; pays nothing (and succeeds) when that is zero.
    function pay(address token, address to, uint256 amount) external returns (uint256 paid) {
        IERC20Like erc20 = IERC20Like(token);
        paid = amount;
        uint256 balance = erc20.balanceOf(msg.sender);
        if (balance < paid) paid = balance;
        uint256 allowed = erc20.allowance(msg.sender, address(this));
        if (allowed < paid) paid = allowed;
        if (paid > 0) require(erc20.transferFrom(msg.sender, to, paid), "transferFrom");
    }

    /// @notice Native coin sent by a contract (an internal transfer): forwards the call's value to `to`.
    ///         A hook for the suite's `contract-eth` load, which inflow does not detect yet.
    function forwardEth(address payable to) external payable {
        (bool sent, ) = to.call{value: msg.value}("");
        require(sent, "forward");
    }
}
